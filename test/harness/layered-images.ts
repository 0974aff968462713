import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync, zstdCompressSync } from "node:zlib";
import type { Crane } from "./crane.ts";
import { splitReference } from "./crane-images.ts";
import { tempDir, type Teardown } from "./lifecycle.ts";
import { layerTar, type LayerEntry } from "./layer-tar.ts";

/** An image built by crane from layers a test writes. */
export interface LayeredImage {
  /** Bottom first; each the entries of one layer tarball. */
  readonly layers: readonly (readonly LayerEntry[])[];
  /** Append to this image (a full reference) instead of an empty base; its layers come first. */
  readonly base?: string;
  /**
   * With `base`: record it as BuildKit does, in the manifest annotations
   * org.opencontainers.image.base.name (`base` as written) and .digest (what it resolved to).
   */
  readonly baseAnnotations?: boolean;
  /** `os/arch[/variant]` (default linux/amd64). */
  readonly platform?: string;
  /** Manifest annotations and config labels to set. */
  readonly annotations?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
  /** How the layers are compressed: crane gzips a plain tar itself, keeps a zstd one. */
  readonly compression?: "gzip" | "zstd";
}

/**
 * Pushes `image` under `ref` (with a tag: tagged; without: by digest into the repository) and
 * resolves to its manifest digest. OCI media types. It is built under a scratch tag that is
 * deleted afterwards, so `ref`'s tag moves once, straight to the final image.
 */
export async function pushLayered(
  t: Teardown,
  crane: Crane,
  ref: string,
  image: LayeredImage,
): Promise<string> {
  const dir = await tempDir(t, "layers");
  const files: string[] = [];
  for (const entries of image.layers) {
    const tar = layerTar(entries);
    const blob =
      image.compression === "zstd"
        ? zstdCompressSync(tar)
        : image.compression === "gzip"
          ? gzipSync(tar)
          : tar;
    const file = join(dir, `layer-${randomBytes(8).toString("hex")}.tar`);
    await writeFile(file, blob);
    files.push(file);
  }
  const { repository, tag } = splitReference(ref);
  const scratch = `${repository}:digestpin-build-${randomBytes(6).toString("hex")}`;
  const base = image.base === undefined ? ["--oci-empty-base"] : ["-b", image.base];
  await crane.run(["append", ...files.flatMap((f) => ["-f", f]), "-t", scratch, ...base]);
  const annotations = { ...image.annotations };
  if (image.base !== undefined && image.baseAnnotations === true) {
    annotations["org.opencontainers.image.base.name"] = image.base;
    annotations["org.opencontainers.image.base.digest"] = (await crane.digest(image.base)).trim();
  }
  const mutations = [
    "--set-platform",
    image.platform ?? "linux/amd64",
    ...Object.entries(annotations).flatMap(([k, v]) => ["-a", `${k}=${v}`]),
    ...Object.entries(image.labels ?? {}).flatMap(([k, v]) => ["-l", `${k}=${v}`]),
  ];
  const destination = tag === undefined ? ["--repo", repository] : ["-t", ref];
  const output = await crane.run(["mutate", scratch, ...mutations, ...destination]);
  await crane.run(["delete", scratch]).catch(() => undefined);
  return digestAtEnd(output);
}

/** A multi-platform index of layered images under `ref`; resolves to its digest and children. */
export async function pushLayeredIndex(
  t: Teardown,
  crane: Crane,
  ref: string,
  platforms: Readonly<Record<string, LayeredImage>>,
): Promise<{ digest: string; manifests: { platform: string; digest: string }[] }> {
  const { repository } = splitReference(ref);
  const manifests: { platform: string; digest: string }[] = [];
  for (const [platform, image] of Object.entries(platforms)) {
    manifests.push({
      platform,
      digest: await pushLayered(t, crane, repository, { ...image, platform }),
    });
  }
  const children = manifests.flatMap((m) => ["-m", `${repository}@${m.digest}`]);
  const output = await crane.run(["index", "append", ...children, "-t", ref]);
  return { digest: digestAtEnd(output), manifests };
}

function digestAtEnd(output: string): string {
  const match = /(sha256:[0-9a-f]{64})\s*$/.exec(output);
  if (match?.[1] === undefined) throw new Error(`no digest in crane output: ${output}`);
  return match[1];
}
