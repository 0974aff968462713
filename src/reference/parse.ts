import { quote } from "../errors.ts";
import { digestProblem } from "./digest.ts";
import { InvalidReferenceError } from "./errors.ts";
import { DEFAULT_TAG, IDENTIFIER } from "./grammar.ts";
import { normalizeName } from "./normalize.ts";
import { tagProblem } from "./tag.ts";
import type { ImageReference, ParseResult } from "./types.ts";

/**
 * Parses an image reference the way Kubernetes nodes read it: distribution/reference's
 * ParseNormalizedNamed, plus the "latest" tag when neither tag nor digest is given.
 * Throws InvalidReferenceError (code ERR_INVALID_REFERENCE) saying what is wrong and where.
 */
export function parseReference(input: string): ImageReference {
  const result = tryParseReference(input);
  if (!result.ok) throw result.error;
  return result.reference;
}

/** parseReference without the throw. */
export function tryParseReference(input: string): ParseResult {
  const known = parsed.get(input);
  if (known !== undefined) return known;
  const result = parse(input);
  if (result instanceof InvalidReferenceError) return { ok: false, error: result };
  // A valid reference is parsed once per distinct string (the webhook sees the same few images
  // in review after review) and shared, frozen: ImageReference is read-only anyway. Invalid ones
  // are not kept, so each throw has its own error.
  const ok: ParseResult = Object.freeze({ ok: true, reference: Object.freeze(result) });
  if (parsed.size >= PARSED_MAX) parsed.clear();
  parsed.set(input, ok);
  return ok;
}

/** Valid references by the string they were parsed from; emptied when it reaches PARSED_MAX. */
const parsed = new Map<string, ParseResult>();
const PARSED_MAX = 4096;

function parse(input: string): ImageReference | InvalidReferenceError {
  if (input === "") return new InvalidReferenceError(input, "the image reference is empty");
  if (IDENTIFIER.test(input)) {
    return new InvalidReferenceError(
      input,
      `${quote(input)}: a 64-hex identifier is not a repository name, use "NAME@sha256:${input}"`,
    );
  }

  // A digest has no "@" and a tag no "/", ":" or "@": the first "@" starts the digest, and the
  // first ":" after the last "/" starts the tag (a ":" before it belongs to a registry port).
  const at = input.indexOf("@");
  const beforeDigest = at === -1 ? input : input.slice(0, at);
  const digest = at === -1 ? null : input.slice(at + 1);
  const lastSlash = beforeDigest.lastIndexOf("/");
  if (lastSlash === -1 && beforeDigest.startsWith("[")) {
    return new InvalidReferenceError(
      input,
      `name ${quote(beforeDigest)}: a registry must be followed by "/" and a repository path`,
    );
  }
  const colon = beforeDigest.indexOf(":", lastSlash + 1);
  const name = colon === -1 ? beforeDigest : beforeDigest.slice(0, colon);
  const tag = colon === -1 ? null : beforeDigest.slice(colon + 1);

  if (name === "")
    return new InvalidReferenceError(input, `${quote(input)}: the repository name is missing`);
  const normalized = normalizeName(name);
  if (typeof normalized === "string") return new InvalidReferenceError(input, normalized);
  const problem =
    (tag === null ? null : tagProblem(tag)) ?? (digest === null ? null : digestProblem(digest));
  if (problem !== null) return new InvalidReferenceError(input, problem);

  return {
    registry: normalized.registry,
    repository: normalized.repository,
    tag: tag ?? (digest === null ? DEFAULT_TAG : null),
    digest,
  };
}
