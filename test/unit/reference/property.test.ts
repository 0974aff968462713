import assert from "node:assert/strict";
import test from "ava";
import fc from "fast-check";
import {
  canonicalOf,
  familiarOf,
  parseReference,
  tryParseReference,
  type ImageReference,
} from "../../../src/reference/index.ts";

/** The characters of an ASCII string. */
const chars = (value: string): string[] => Array.from(value);

const hex = (length: number) =>
  fc.string({
    unit: fc.constantFrom(...chars("0123456789abcdef")),
    minLength: length,
    maxLength: length,
  });
const alphaNumeric = fc.string({
  unit: fc.constantFrom(...chars("abcdefghijklmnopqrstuvwxyz0123456789")),
  minLength: 1,
  maxLength: 8,
});
const separator = fc.oneof(
  fc.constantFrom(".", "_", "__"),
  fc.integer({ min: 1, max: 3 }).map((n) => "-".repeat(n)),
);
const pathComponent = fc
  .tuple(alphaNumeric, fc.array(fc.tuple(separator, alphaNumeric), { maxLength: 3 }))
  .map(([head, tail]) => head + tail.map(([s, a]) => s + a).join(""));
const label = fc
  .tuple(
    fc.constantFrom(...chars("abcXYZ019")),
    fc.string({ unit: fc.constantFrom(...chars("abcXYZ09-")), maxLength: 6 }),
    fc.constantFrom(...chars("aZ9")),
  )
  .map(([first, middle, last]) => first + middle + last);
const port = fc.integer({ min: 1, max: 65535 }).map(String);
const withOptionalPort = (host: fc.Arbitrary<string>) =>
  fc.tuple(host, fc.option(port, { nil: undefined })).map(([h, p]) => (p ? `${h}:${p}` : h));
const ipv4 = fc.ipV4();
const ipv6 = fc
  .array(fc.string({ unit: fc.constantFrom(...chars("0123456789abcdefABCDEF")), maxLength: 4 }), {
    minLength: 3,
    maxLength: 8,
  })
  .map((groups) => `[${groups.join(":")}]`)
  .filter((address) => address !== "[]" && /[0-9a-fA-F]/.test(address));

/** Registries the parser recognizes as such: what a canonical reference can start with. */
const registry = fc.oneof(
  fc.constant("docker.io"),
  withOptionalPort(fc.constant("localhost")),
  withOptionalPort(fc.array(label, { minLength: 2, maxLength: 4 }).map((l) => l.join("."))),
  label.map((l) => `${l}:5000`),
  label.filter((l) => l !== l.toLowerCase()),
  withOptionalPort(ipv4),
  withOptionalPort(ipv6),
);
const tag = fc
  .tuple(
    fc.constantFrom(...chars("aZ0_")),
    fc.string({ unit: fc.constantFrom(...chars("abcXYZ0189_.-")), maxLength: 127 }),
  )
  .map(([first, rest]) => first + rest);
const digest = fc.oneof(
  hex(64).map((h) => `sha256:${h}`),
  hex(96).map((h) => `sha384:${h}`),
  hex(128).map((h) => `sha512:${h}`),
);

/** A normalized reference, as parseReference returns them. */
const reference: fc.Arbitrary<ImageReference> = fc
  .record({
    registry,
    components: fc.array(pathComponent, { minLength: 1, maxLength: 4 }),
    tag: fc.option(tag, { nil: null }),
    digest: fc.option(digest, { nil: null }),
  })
  .map(({ registry, components, tag, digest }) => ({
    registry,
    repository:
      registry === "docker.io" && components.length === 1
        ? `library/${components.join("/")}`
        : components.join("/"),
    tag: tag === null && digest === null ? "latest" : tag,
    digest,
  }))
  .filter((ref) => ref.repository.length <= 255);

test("canonical form parses back to the same reference", (t) => {
  t.notThrows(() => {
    fc.assert(
      fc.property(reference, (ref) => {
        assert.deepEqual(parseReference(canonicalOf(ref)), ref);
      }),
      { numRuns: 2000 },
    );
  });
});

test("familiar form parses back to the same canonical reference", (t) => {
  // On Docker Hub a first path component with a "." (or "localhost") reads as a registry once
  // "docker.io/" is dropped; distribution/reference's familiar form has the same ambiguity.
  const unambiguous = reference.filter((ref) => {
    const first = ref.repository.split("/")[0]!;
    return ref.registry !== "docker.io" || (!first.includes(".") && first !== "localhost");
  });
  t.notThrows(() => {
    fc.assert(
      fc.property(unambiguous, (ref) => {
        assert.equal(canonicalOf(parseReference(familiarOf(ref))), canonicalOf(ref));
      }),
      { numRuns: 2000 },
    );
  });
});

test("parsing is idempotent on canonical output and total on any string", (t) => {
  t.notThrows(() => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (input) => {
        const result = tryParseReference(input);
        if (result.ok) {
          assert.deepEqual(parseReference(canonicalOf(result.reference)), result.reference);
        } else {
          assert.equal(result.error.code, "ERR_INVALID_REFERENCE");
        }
      }),
      { numRuns: 3000 },
    );
  });
});
