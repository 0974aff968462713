export type { ImageReference, ParseResult } from "./types.ts";
export { ReferenceError } from "./errors.ts";
export { parseReference, tryParseReference } from "./parse.ts";
export { canonicalOf, familiarOf, nameOf, pinKeyOf, withDigest } from "./format.ts";
export { DIGEST_ALGORITHMS, isDigest, parseDigest } from "./digest.ts";
export { DEFAULT_REGISTRY, DEFAULT_TAG } from "./grammar.ts";
