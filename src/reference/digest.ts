import { quote } from "../errors.ts";
import { InvalidReferenceError } from "./errors.ts";
import { DIGEST_ALGORITHM } from "./grammar.ts";

/**
 * The algorithms go-digest registers, with the number of lowercase hex digits each needs. sha384
 * comes with sha512 (both are in Go's crypto/sha512), so whoever accepts sha512 accepts it too.
 */
const HEX_LENGTH: ReadonlyMap<string, number> = new Map([
  ["sha256", 64],
  ["sha384", 96],
  ["sha512", 128],
]);

export const DIGEST_ALGORITHMS: readonly string[] = [...HEX_LENGTH.keys()];

const LOWERCASE_HEX = /^[0-9a-f]*$/;
const NOT_HEX = /[^0-9a-fA-F]/;

/** Why `digest` is not a valid `algorithm:hex` digest, or null when it is. */
export function digestProblem(digest: string): string | null {
  const colon = digest.indexOf(":");
  const algorithm = colon === -1 ? digest : digest.slice(0, colon);
  const encoded = colon === -1 ? "" : digest.slice(colon + 1);
  const expected = HEX_LENGTH.get(algorithm);
  if (expected !== undefined && encoded.length === expected && LOWERCASE_HEX.test(encoded)) {
    return null;
  }

  const where = `digest ${quote(digest)}`;
  if (digest === "")
    return `digest is empty: expected "algorithm:hex", e.g. "sha256:" and 64 hex digits`;
  if (colon === -1) return `${where}: expected "algorithm:hex", e.g. "sha256:" and 64 hex digits`;
  if (algorithm === "") return `${where}: the algorithm before ":" is missing`;
  if (expected === undefined) {
    if (HEX_LENGTH.has(algorithm.toLowerCase())) {
      return `${where}: algorithm ${quote(algorithm)} must be lowercase`;
    }
    if (!DIGEST_ALGORITHM.test(algorithm)) {
      return `${where}: algorithm ${quote(algorithm)} is malformed`;
    }
    return `${where}: algorithm ${quote(algorithm)} is not supported (use ${DIGEST_ALGORITHMS.join(", ")})`;
  }
  const bad = NOT_HEX.exec(encoded);
  if (bad !== null) return `${where}: ${quote(bad[0])} is not a hex digit`;
  if (!LOWERCASE_HEX.test(encoded)) return `${where}: hex digits must be lowercase`;
  return `${where}: ${algorithm} needs ${expected} hex digits, got ${encoded.length}`;
}

/** Whether `value` is a digest of a supported algorithm, e.g. `sha256:` and 64 lowercase hex. */
export function isDigest(value: string): boolean {
  return digestProblem(value) === null;
}

/** Returns `input` when it is a valid digest; throws InvalidReferenceError saying what is wrong. */
export function parseDigest(input: string): string {
  const problem = digestProblem(input);
  if (problem !== null) throw new InvalidReferenceError(input, problem);
  return input;
}
