import test from "ava";
import { DIGEST_ALGORITHMS, isDigest, parseDigest } from "../../../src/reference/index.ts";

const hex = (length: number) => "0123456789abcdef".repeat(8).slice(0, length);

const valid = [`sha256:${hex(64)}`, `sha384:${hex(96)}`, `sha512:${hex(128)}`];

const invalid: Record<string, string> = {
  "": `digest is empty: expected "algorithm:hex", e.g. "sha256:" and 64 hex digits`,
  [hex(64)]: `digest "${hex(64)}": expected "algorithm:hex", e.g. "sha256:" and 64 hex digits`,
  "sha256:": `digest "sha256:": sha256 needs 64 hex digits, got 0`,
  [`sha256:${hex(63)}`]: `digest "sha256:${hex(63)}": sha256 needs 64 hex digits, got 63`,
  [`sha256:${hex(65)}`]: `digest "sha256:${hex(65)}": sha256 needs 64 hex digits, got 65`,
  [`sha256:${hex(128)}`]: `digest "sha256:${hex(128)}": sha256 needs 64 hex digits, got 128`,
  [`sha512:${hex(64)}`]: `digest "sha512:${hex(64)}": sha512 needs 128 hex digits, got 64`,
  [`sha384:${hex(64)}`]: `digest "sha384:${hex(64)}": sha384 needs 96 hex digits, got 64`,
  [`sha256:${hex(64).toUpperCase()}`]: `digest "sha256:${hex(64).toUpperCase()}": hex digits must be lowercase`,
  [`sha256:${hex(63)}z`]: `digest "sha256:${hex(63)}z": "z" is not a hex digit`,
  [`sha256:${hex(32)}:${hex(31)}`]: `digest "sha256:${hex(32)}:${hex(31)}": ":" is not a hex digit`,
  [`Sha256:${hex(64)}`]: `digest "Sha256:${hex(64)}": algorithm "Sha256" must be lowercase`,
  [`md5:${hex(32)}`]: `digest "md5:${hex(32)}": algorithm "md5" is not supported (use sha256, sha384, sha512)`,
  [`sha256+b64:${hex(64)}`]: `digest "sha256+b64:${hex(64)}": algorithm "sha256+b64" is not supported (use sha256, sha384, sha512)`,
  [`blake3:${hex(64)}`]: `digest "blake3:${hex(64)}": algorithm "blake3" is not supported (use sha256, sha384, sha512)`,
  [`sha-:${hex(64)}`]: `digest "sha-:${hex(64)}": algorithm "sha-" is malformed`,
  [`:${hex(64)}`]: `digest ":${hex(64)}": the algorithm before ":" is missing`,
};

for (const digest of valid) {
  test(`accepts ${digest.slice(0, 20)}…`, (t) => {
    t.true(isDigest(digest));
    t.is(parseDigest(digest), digest);
  });
}

for (const [digest, message] of Object.entries(invalid)) {
  const shown = digest.length > 24 ? `${digest.slice(0, 16)}…${digest.slice(-4)}` : digest;
  test(`rejects digest ${JSON.stringify(shown)} (${digest.length} characters)`, (t) => {
    t.false(isDigest(digest));
    const error = t.throws(() => parseDigest(digest), { code: "ERR_INVALID_REFERENCE" });
    t.is(error.message, message);
    t.is((error as Error & { input: string }).input, digest);
  });
}

test("the supported algorithms are go-digest's", (t) => {
  t.deepEqual(DIGEST_ALGORITHMS, ["sha256", "sha384", "sha512"]);
});
