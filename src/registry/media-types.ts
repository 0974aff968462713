/** Manifest media types digestpin resolves, and whether each lists per-platform children. */
export const MEDIA_TYPES = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
} as const;

export type ManifestMediaType = (typeof MEDIA_TYPES)[keyof typeof MEDIA_TYPES];

const INDEX_TYPES: ReadonlySet<string> = new Set([
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifestList,
]);
const ALL_TYPES: ReadonlySet<string> = new Set(Object.values(MEDIA_TYPES));

/**
 * The Accept header of every manifest request. Indexes come first: containerd resolves a
 * multi-platform tag to its index digest, and that is the digest a pin must match.
 */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifest,
].join(", ");

export function isManifestMediaType(value: string): value is ManifestMediaType {
  return ALL_TYPES.has(value);
}

export function isIndexMediaType(value: string): boolean {
  return INDEX_TYPES.has(value);
}

/** `application/json; charset=utf-8` → `application/json`. */
export function bareMediaType(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}
