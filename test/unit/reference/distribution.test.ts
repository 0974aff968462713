/**
 * Differential test against an oracle that reads references the way distribution/reference's
 * ParseNormalizedNamed does: the whole grammar as one regular expression (as its regexp.go
 * composes it), Docker's domain split on the first "/", then go-digest's digest check. The parser
 * under test works piece by piece instead; both must accept the same strings and agree on the
 * result.
 */
import assert from "node:assert/strict";
import test from "ava";
import fc from "fast-check";
import { tryParseReference, type ImageReference } from "../../../src/reference/index.ts";

/** The characters of an ASCII string. */
const chars = (value: string): string[] => Array.from(value);

const alphaNumeric = "[a-z0-9]+";
const separator = "(?:[._]|__|[-]+)";
const pathComponent = `${alphaNumeric}(?:${separator}${alphaNumeric})*`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const domainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const host = `(?:${domainComponent}(?:\\.${domainComponent})*|\\[(?:[a-fA-F0-9:]+)\\])`;
const domain = `${host}(?::[0-9]+)?`;
const tag = "[\\w][\\w.-]{0,127}";
const digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}";
const referenceRegexp = new RegExp(
  `^((?:${domain}/)?${remoteName})(?::(${tag}))?(?:@(${digest}))?$`,
);
const nameRegexp = new RegExp(`^(?:(${domain})/)?(${remoteName})$`);
const encodedLength: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

function oracle(input: string): ImageReference | null {
  if (/^[a-f0-9]{64}$/.test(input)) return null;
  let registry = "docker.io";
  let rest = input;
  const slash = input.indexOf("/");
  if (slash === -1) {
    rest = `library/${input}`;
  } else {
    const first = input.slice(0, slash);
    if (
      first === "localhost" ||
      first === "index.docker.io" ||
      /[.:]/.test(first) ||
      first.toLowerCase() !== first
    ) {
      registry = first === "index.docker.io" ? "docker.io" : first;
      rest = input.slice(slash + 1);
    }
    if (registry === "docker.io" && !rest.includes("/")) rest = `library/${rest}`;
  }
  const remote = rest.split(":")[0]!;
  if (remote.toLowerCase() !== remote) return null;

  const match = referenceRegexp.exec(`${registry}/${rest}`);
  if (match === null) return null;
  const [, name, tagMatch, digestMatch] = match;
  const [, domainMatch, path] = nameRegexp.exec(name!)!;
  if (path!.length > 255) return null;
  if (digestMatch !== undefined) {
    const [algorithm, encoded] = digestMatch.split(":") as [string, string];
    if (encodedLength[algorithm] !== encoded.length || !/^[a-f0-9]+$/.test(encoded)) return null;
  }
  return {
    registry: domainMatch ?? "",
    repository: path!,
    tag: tagMatch ?? (digestMatch === undefined ? "latest" : null),
    digest: digestMatch ?? null,
  };
}

const hex64 = "0123456789abcdef".repeat(4);
const fragments = [
  ...chars("abz09AZ._-:/@[]%$ "),
  "__",
  "--",
  "::1",
  "5000",
  "localhost",
  "docker.io",
  "index.docker.io",
  "library",
  "example.com",
  "LOCAL",
  "foo_bar.com",
  "latest",
  hex64,
  `sha256:${hex64}`,
  `sha512:${hex64}${hex64}`,
  `sha384:${hex64}${hex64.slice(0, 32)}`,
  `sha256:${hex64.toUpperCase()}`,
  `md5:${hex64}`,
  "sha256:abc",
  "a".repeat(250),
];
const referenceLike = fc
  .array(fc.constantFrom(...fragments), { minLength: 1, maxLength: 10 })
  .map((parts) => parts.join(""));

function agrees(input: string): void {
  const result = tryParseReference(input);
  const expected = oracle(input);
  if (expected === null) {
    assert.equal(result.ok, false, `expected ${JSON.stringify(input)} to be rejected`);
  } else {
    assert.deepEqual(result.ok ? result.reference : result.error.message, expected, input);
  }
}

test("accepts and rejects exactly what distribution/reference does (generated)", (t) => {
  t.notThrows(() => {
    fc.assert(fc.property(referenceLike, agrees), { numRuns: 30000 });
  });
});

test("accepts and rejects exactly what distribution/reference does (any string)", (t) => {
  t.notThrows(() => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), agrees), { numRuns: 5000 });
  });
});
