import fc from "fast-check";

/**
 * Generators of hostile input shared by the property suites: strings a person or an attacker
 * could put where digestpin expects an image reference, a policy or an AdmissionReview.
 */

/** Characters that mean something to one of the grammars digestpin reads, or to a terminal. */
export const HOSTILE_CHARS = [
  "/",
  ":",
  "@",
  ".",
  "-",
  "_",
  "__",
  "[",
  "]",
  "%",
  "+",
  "=",
  " ",
  "\t",
  "\n",
  "\r",
  "\u0000",
  "\u001b[31m",
  "\uFEFF",
  "\u202E",
  "\u200B",
  "é",
  "Ａ",
  "\ud800",
  "A",
  "Z",
  "9",
  "sha256:",
  "..",
  "localhost",
  "*",
  "#",
  "'",
  '"',
  "\\",
  "&",
  "!",
  "{",
  "}",
  "|",
  ">",
  "?",
  ",",
] as const;

export const hostileChar = fc.constantFrom(...HOSTILE_CHARS);

/** Any string: full unicode, lone surrogates, control characters, hostile fragments. */
export const anyString = fc.oneof(
  fc.string({ maxLength: 120 }),
  fc.string({ unit: "binary", maxLength: 120 }),
  fc.string({ unit: hostileChar, maxLength: 40 }),
);

const hex = (length: number) =>
  fc.string({
    unit: fc.constantFrom(...Array.from("0123456789abcdef")),
    minLength: length,
    maxLength: length,
  });

const lower = fc.string({
  unit: fc.constantFrom(...Array.from("abcdefghijklmnopqrstuvwxyz0123456789")),
  minLength: 1,
  maxLength: 10,
});

/** A plausible image reference: registry, path, tag and digest, each sometimes slightly wrong. */
export const referenceLike: fc.Arbitrary<string> = fc
  .record({
    registry: fc.option(
      fc.oneof(
        fc.constantFrom(
          "docker.io",
          "ghcr.io",
          "localhost:5000",
          "127.0.0.1:5000",
          "[::1]:5000",
          "169.254.169.254",
          "registry.example.com",
          "Registry.Example.com",
        ),
        lower.map((l) => `${l}.io`),
      ),
      { nil: undefined },
    ),
    path: fc.array(lower, { minLength: 1, maxLength: 4 }),
    tag: fc.option(
      fc.oneof(fc.constantFrom("1.36", "latest", "v1", "-bad", ".bad", "x".repeat(129)), lower),
      { nil: undefined },
    ),
    digest: fc.option(
      fc.oneof(
        hex(64).map((h) => `sha256:${h}`),
        hex(63).map((h) => `sha256:${h}`),
        hex(64).map((h) => `sha256:${h.toUpperCase()}`),
        hex(128).map((h) => `sha512:${h}`),
        hex(64).map((h) => `md5:${h}`),
      ),
      { nil: undefined },
    ),
  })
  .map(
    ({ registry, path, tag, digest }) =>
      `${registry === undefined ? "" : `${registry}/`}${path.join("/")}${tag === undefined ? "" : `:${tag}`}${digest === undefined ? "" : `@${digest}`}`,
  );

/** One edit of a string: insert, delete or replace at a position (as a fraction of its length). */
const edit = fc.record({
  kind: fc.constantFrom("insert", "delete", "replace", "repeat"),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  length: fc.integer({ min: 1, max: 8 }),
  text: fc.oneof(hostileChar, fc.string({ maxLength: 4 })),
});

/** `base` with up to `maxEdits` random edits: mostly-valid input, the hardest kind. */
export function mutated(base: fc.Arbitrary<string>, maxEdits = 4): fc.Arbitrary<string> {
  return fc
    .tuple(base, fc.array(edit, { minLength: 1, maxLength: maxEdits }))
    .map(([text, edits]) => {
      let value = text;
      for (const e of edits) {
        const at = Math.floor(e.at * value.length);
        if (e.kind === "insert") value = value.slice(0, at) + e.text + value.slice(at);
        else if (e.kind === "delete") value = value.slice(0, at) + value.slice(at + e.length);
        else if (e.kind === "replace")
          value = value.slice(0, at) + e.text + value.slice(at + e.length);
        else
          value = value.slice(0, at) + value.slice(at, at + e.length).repeat(50) + value.slice(at);
      }
      return value;
    });
}

/** Image strings for pod specs: valid, nearly valid, and anything at all. */
export const imageString = (known: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...known) },
    { weight: 2, arbitrary: referenceLike },
    { weight: 2, arbitrary: mutated(fc.constantFrom(...known), 2) },
    { weight: 1, arbitrary: anyString },
  );
