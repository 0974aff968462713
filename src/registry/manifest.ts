import { createHash } from "node:crypto";
import { RegistryError } from "./errors.ts";
import { bareMediaType, isIndexMediaType, isManifestMediaType } from "./media-types.ts";

/** A platform of a multi-platform image and its own manifest digest. */
export interface PlatformDigest {
  /** `os/architecture[/variant]`, e.g. `linux/arm64/v8`. */
  readonly platform: string;
  readonly digest: string;
}

/** What a manifest body says that digestpin uses. */
export interface ManifestSummary {
  readonly mediaType: string;
  /** Per-platform children, for an index; empty for a single-platform manifest. */
  readonly platforms: readonly PlatformDigest[];
}

export function sha256Digest(body: Uint8Array): string {
  return "sha256:" + createHash("sha256").update(body).digest("hex");
}

/** The digest of `body` under the algorithm of `expected` (sha256 or sha512). */
export function digestOf(body: Uint8Array, expected: string): string {
  const algorithm = expected.startsWith("sha512:") ? "sha512" : "sha256";
  return `${algorithm}:` + createHash(algorithm).update(body).digest("hex");
}

/**
 * Reads the media type and platform children of a manifest body. The Content-Type header is
 * used when the body does not say (Docker v2 manifests always do; OCI ones may not).
 */
export function summarizeManifest(
  registry: string,
  body: Uint8Array,
  contentType: string | undefined,
): ManifestSummary {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch (error) {
    throw new RegistryError("ERR_REGISTRY_PROTOCOL", registry, "manifest is not JSON", {
      cause: error,
    });
  }
  const document = (typeof parsed === "object" && parsed !== null ? parsed : {}) as {
    mediaType?: unknown;
    manifests?: unknown;
  };
  const mediaType =
    typeof document.mediaType === "string" ? document.mediaType : bareMediaType(contentType);
  if (!isManifestMediaType(mediaType)) {
    throw new RegistryError(
      "ERR_UNSUPPORTED_MEDIA_TYPE",
      registry,
      `manifest media type "${mediaType}" is not an OCI or Docker v2 image manifest or index`,
    );
  }
  return { mediaType, platforms: isIndexMediaType(mediaType) ? children(document.manifests) : [] };
}

function children(manifests: unknown): PlatformDigest[] {
  if (!Array.isArray(manifests)) return [];
  const result: PlatformDigest[] = [];
  for (const entry of manifests as unknown[]) {
    const { digest, platform } = (entry ?? {}) as { digest?: unknown; platform?: unknown };
    if (typeof digest !== "string") continue;
    const p = (platform ?? {}) as { os?: unknown; architecture?: unknown; variant?: unknown };
    if (typeof p.os !== "string" || typeof p.architecture !== "string") continue;
    const variant = typeof p.variant === "string" && p.variant !== "" ? `/${p.variant}` : "";
    result.push({ platform: `${p.os}/${p.architecture}${variant}`, digest });
  }
  return result;
}
