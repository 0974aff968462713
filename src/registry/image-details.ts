import { RegistryError } from "./errors.ts";
import { isIndexMediaType } from "./media-types.ts";
import type { ReadOptions, RegistryReader, RepositoryName } from "./registry-reader.ts";

export interface LayerInfo {
  readonly digest: string;
  readonly size: number;
}

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
 * Reads the manifest of `digest`, and for an index every platform's manifest, then each image
 * config. Attestations in an index (platform unknown/unknown) are left out.
 */
export async function readImageDetails(
  reader: RegistryReader,
  name: RepositoryName,
  digest: string,
  options: ReadOptions = {},
): Promise<ImageDetails> {
  const top = await reader.manifest(name, digest, options);
  const json = parse(name, top.body);
  const mediaType = typeof json.mediaType === "string" ? json.mediaType : top.mediaType;
  if (!isIndexMediaType(mediaType)) {
    const image = await readImage(reader, name, digest, json, undefined, options);
    return { digest, mediaType, index: false, images: [image] };
  }
  const children = (Array.isArray(json.manifests) ? json.manifests : []) as unknown[];
  const images = await Promise.all(
    children.flatMap((child) => {
      const entry = asObject(child);
      const platform = platformOf(asObject(entry.platform));
      if (typeof entry.digest !== "string" || platform === undefined) return [];
      if (platform === "unknown/unknown") return [];
      const childDigest = entry.digest;
      return [
        reader
          .manifest(name, childDigest, options)
          .then((m) =>
            readImage(reader, name, childDigest, parse(name, m.body), platform, options),
          ),
      ];
    }),
  );
  return { digest, mediaType, index: true, images };
}

async function readImage(
  reader: RegistryReader,
  name: RepositoryName,
  digest: string,
  manifest: Record<string, unknown>,
  platform: string | undefined,
  options: ReadOptions,
): Promise<PlatformImage> {
  const configDigest = asObject(manifest.config).digest;
  if (typeof configDigest !== "string") {
    throw new RegistryError("ERR_REGISTRY_PROTOCOL", name.registry, `${digest} has no config`);
  }
  const config = parse(name, await reader.blob(name, configDigest, options));
  const layers = (Array.isArray(manifest.layers) ? manifest.layers : []).flatMap((layer) => {
    const { digest: d, size } = asObject(layer);
    return typeof d === "string" ? [{ digest: d, size: typeof size === "number" ? size : 0 }] : [];
  });
  return {
    platform: platform ?? platformOf(config) ?? "unknown",
    digest,
    configDigest,
    created: typeof config.created === "string" ? config.created : undefined,
    layers,
  };
}

function platformOf(value: Record<string, unknown>): string | undefined {
  const { os, architecture, variant } = value;
  if (typeof os !== "string" || typeof architecture !== "string") return undefined;
  return typeof variant === "string" && variant !== ""
    ? `${os}/${architecture}/${variant}`
    : `${os}/${architecture}`;
}

function parse(name: RepositoryName, body: Buffer): Record<string, unknown> {
  try {
    return asObject(JSON.parse(body.toString("utf8")));
  } catch (error) {
    throw new RegistryError(
      "ERR_REGISTRY_PROTOCOL",
      name.registry,
      "a manifest or config is not JSON",
      {
        cause: error,
      },
    );
  }
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
