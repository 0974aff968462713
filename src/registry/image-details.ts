import { RegistryError } from "./errors.ts";
import { readImageConfig, readManifestTree, type LayerInfo, type TreeImage } from "./image-tree.ts";
import type { ReadOptions, RegistryReader, RepositoryName } from "./registry-reader.ts";

export type { LayerInfo };

/** One platform's image: its manifest, config and layers. */
export interface PlatformImage {
  /** `os/architecture[/variant]`, from the index entry or the image config. */
  readonly platform: string;
  /** The image manifest's digest. */
  readonly digest: string;
  readonly configDigest: string;
  /** The image config's `created` time, when it has one. */
  readonly created: string | undefined;
  readonly layers: readonly LayerInfo[];
}

/** What an image digest stands for: an index of platform images, or one image. */
export interface ImageDetails {
  readonly digest: string;
  readonly mediaType: string;
  readonly index: boolean;
  readonly images: readonly PlatformImage[];
}

/**
 * The manifest tree of `digest` (see image-tree.ts) with each image's config read too.
 * Attestations in an index (platform unknown/unknown) are left out.
 */
export async function readImageDetails(
  reader: RegistryReader,
  name: RepositoryName,
  digest: string,
  options: ReadOptions = {},
): Promise<ImageDetails> {
  const tree = await readManifestTree(reader, name, digest, options);
  const images = await Promise.all(
    tree.images.map((image) => withConfig(reader, name, image, options)),
  );
  return { digest, mediaType: tree.mediaType, index: tree.index, images };
}

async function withConfig(
  reader: RegistryReader,
  name: RepositoryName,
  image: TreeImage,
  options: ReadOptions,
): Promise<PlatformImage> {
  const { configDigest } = image;
  if (configDigest === undefined) {
    throw new RegistryError(
      "ERR_REGISTRY_PROTOCOL",
      name.registry,
      `${image.digest} has no config`,
    );
  }
  const config = await readImageConfig(reader, name, configDigest, options);
  return {
    platform: image.platform ?? config.platform ?? "unknown",
    digest: image.digest,
    configDigest,
    created: config.created,
    layers: image.layers,
  };
}
