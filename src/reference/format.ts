import { parseDigest } from "./digest.ts";
import { DEFAULT_REGISTRY, OFFICIAL_NAMESPACE } from "./grammar.ts";
import type { ImageReference } from "./types.ts";

type Name = Pick<ImageReference, "registry" | "repository">;
type Suffixes = Pick<ImageReference, "tag" | "digest">;

/** `registry/repository`, e.g. "docker.io/library/busybox". */
export function nameOf(ref: Name): string {
  return ref.registry === "" ? ref.repository : `${ref.registry}/${ref.repository}`;
}

/** The full reference: name, then ":tag" and "@digest" when present. */
export function canonicalOf(ref: ImageReference): string {
  return nameOf(ref) + suffixes(ref);
}

/**
 * The short form Docker shows, as distribution/reference's FamiliarString: "docker.io/" is
 * dropped, and so is "library/" when nothing else is nested under it ("busybox:1.36",
 * "foo/bar:1"); names on other registries stay as they are.
 */
export function familiarOf(ref: ImageReference): string {
  if (ref.registry !== DEFAULT_REGISTRY) return canonicalOf(ref);
  const rest = ref.repository.startsWith(OFFICIAL_NAMESPACE)
    ? ref.repository.slice(OFFICIAL_NAMESPACE.length)
    : null;
  const name = rest === null || rest.includes("/") ? ref.repository : rest;
  return name + suffixes(ref);
}

/** The key a pin is stored under: `registry/repository:tag`, or null without a tag. */
export function pinKeyOf(ref: ImageReference): string | null {
  return ref.tag === null ? null : `${nameOf(ref)}:${ref.tag}`;
}

/** `ref` with `digest` (validated; throws InvalidReferenceError), keeping its tag. */
export function withDigest(ref: ImageReference, digest: string): ImageReference {
  return {
    registry: ref.registry,
    repository: ref.repository,
    tag: ref.tag,
    digest: parseDigest(digest),
  };
}

function suffixes(ref: Suffixes): string {
  return (ref.tag === null ? "" : `:${ref.tag}`) + (ref.digest === null ? "" : `@${ref.digest}`);
}
