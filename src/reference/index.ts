// Image references: the distribution/reference grammar with Docker's normalization, parsed,
// formatted and keyed (`registry/repository:tag`) for pins. Pure; the ground floor.
export type { ImageReference, ParseResult } from "./types.ts";
export { InvalidReferenceError } from "./errors.ts";
export { parseReference, tryParseReference } from "./parse.ts";
export { canonicalOf, familiarOf, nameOf, pinKeyOf, withDigest } from "./format.ts";
export { DIGEST_ALGORITHMS, isDigest, parseDigest } from "./digest.ts";
export { DEFAULT_REGISTRY, DEFAULT_TAG } from "./grammar.ts";
export { entryForRegistry } from "./registry.ts";
export { distinctBases, type BaseDeclaration, type BaseSource } from "./base.ts";
