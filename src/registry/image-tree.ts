import { RegistryError } from "./errors.ts";
import { isIndexMediaType } from "./media-types.ts";
import type { ReadOptions, RegistryReader, RepositoryName } from "./registry-reader.ts";

export interface LayerInfo {
  readonly digest: string;
  readonly size: number;
}

/** One image manifest of a tree: what its manifest says, without reading its config. */
export interface TreeImage {
  /** `os/architecture[/variant]` from the index entry; undefined for a lone manifest. */
  readonly platform: string | undefined;
  readonly digest: string;
  readonly configDigest: string | undefined;
  readonly annotations: Readonly<Record<string, string>>;
  readonly layers: readonly LayerInfo[];
}

/** A digest's manifests: an index and its platform images, or one image. */
export interface ManifestTree {
  readonly digest: string;
  readonly mediaType: string;
  readonly index: boolean;
  /** The index's annotations (a lone manifest's are on its image). */
  readonly annotations: Readonly<Record<string, string>>;
  readonly images: readonly TreeImage[];
}

/**
 * Reads the manifest of `digest` and, for an index, each platform's manifest (attestations,
 * platform unknown/unknown, are left out); no configs, no layers. Content-addressed, so a
 * caller may keep the answer as long as it likes.
 */
export async function readManifestTree(
  reader: RegistryReader,
  name: RepositoryName,
  digest: string,
  options: ReadOptions = {},
): Promise<ManifestTree> {
  const top = await reader.manifest(name, digest, options);
  const json = parseJson(name, top.body);
  const mediaType = typeof json.mediaType === "string" ? json.mediaType : top.mediaType;
  if (!isIndexMediaType(mediaType)) {
    return {
      digest,
      mediaType,
      index: false,
      annotations: {},
      images: [imageOf(digest, json, undefined)],
    };
  }
  const entries = (Array.isArray(json.manifests) ? json.manifests : []).flatMap((child) => {
    const entry = asObject(child);
    const platform = platformOf(asObject(entry.platform));
    if (typeof entry.digest !== "string" || platform === "unknown/unknown") return [];
    return [{ digest: entry.digest, platform }];
  });
  const images = await Promise.all(
    entries.map(async ({ digest: child, platform }) => {
      const manifest = await reader.manifest(name, child, options);
      return imageOf(child, parseJson(name, manifest.body), platform);
    }),
  );
  return { digest, mediaType, index: true, annotations: stringsOf(json.annotations), images };
}

/** What digestpin reads from an image config. */
export interface ImageConfig {
  /** `config.Labels`. */
  readonly labels: Readonly<Record<string, string>>;
  readonly platform?: string;
  /** The `created` time, when it has one. */
  readonly created?: string;
}

export async function readImageConfig(
  reader: RegistryReader,
  name: RepositoryName,
  configDigest: string,
  options: ReadOptions = {},
): Promise<ImageConfig> {
  const config = parseJson(name, await reader.blob(name, configDigest, options));
  const platform = platformOf(config);
  const labels = stringsOf(asObject(config.config).Labels);
  return {
    labels,
    ...(platform !== undefined && { platform }),
    ...(typeof config.created === "string" && { created: config.created }),
  };
}

function imageOf(
  digest: string,
  manifest: Record<string, unknown>,
  platform: string | undefined,
): TreeImage {
  const config = asObject(manifest.config).digest;
  const layers = (Array.isArray(manifest.layers) ? manifest.layers : []).flatMap((layer) => {
    const { digest: d, size } = asObject(layer);
    return typeof d === "string" ? [{ digest: d, size: typeof size === "number" ? size : 0 }] : [];
  });
  return {
    platform,
    digest,
    configDigest: typeof config === "string" ? config : undefined,
    annotations: stringsOf(manifest.annotations),
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

function stringsOf(value: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, text] of Object.entries(asObject(value))) {
    if (typeof text === "string") result[key] = text;
  }
  return result;
}

function parseJson(name: RepositoryName, body: Buffer): Record<string, unknown> {
  try {
    return asObject(JSON.parse(body.toString("utf8")));
  } catch (error) {
    throw new RegistryError(
      "ERR_REGISTRY_PROTOCOL",
      name.registry,
      "a manifest or config is not JSON",
      { cause: error },
    );
  }
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
