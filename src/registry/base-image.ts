import type { BaseDeclaration, BaseSource } from "../reference/index.ts";
import type { ManifestTree } from "./image-tree.ts";

/** The OCI annotations (also used as config labels) naming the image an image is built on. */
export const BASE_NAME = "org.opencontainers.image.base.name";
export const BASE_DIGEST = "org.opencontainers.image.base.digest";

/** The declaration in one annotation or label map, if it has a base name. */
export function baseOf(
  values: Readonly<Record<string, string>>,
  source: BaseSource,
  platform: string | undefined,
): BaseDeclaration | undefined {
  const name = values[BASE_NAME]?.trim();
  if (name === undefined || name === "") return undefined;
  const digest = values[BASE_DIGEST]?.trim();
  return { name, digest: digest === "" ? undefined : digest, source, platform };
}

/**
 * The bases a tree declares in its annotations: the index's, else each platform manifest's.
 * `missing` lists the platform images that declare nothing there (their config labels may).
 */
export function basesInAnnotations(tree: ManifestTree): {
  readonly bases: BaseDeclaration[];
  readonly missing: ManifestTree["images"];
} {
  const top = baseOf(tree.annotations, "index annotation", undefined);
  if (top !== undefined) return { bases: [top], missing: [] };
  const bases: BaseDeclaration[] = [];
  const missing: ManifestTree["images"][number][] = [];
  for (const image of tree.images) {
    const found = baseOf(image.annotations, "manifest annotation", image.platform);
    if (found === undefined) missing.push(image);
    else bases.push(found);
  }
  return { bases, missing };
}
