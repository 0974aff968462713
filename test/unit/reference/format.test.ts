import test from "ava";
import {
  canonicalOf,
  familiarOf,
  nameOf,
  parseReference,
  pinKeyOf,
  withDigest,
  type ImageReference,
} from "../../../src/reference/index.ts";

const sha256 = `sha256:${"ab".repeat(32)}`;
const digest = `sha256:${"0123456789abcdef".repeat(4)}`;
const other = `sha256:${"cd".repeat(32)}`;

/** input → [name, canonical, familiar, pin key] */
const cases: Record<string, [string, string, string, string | null]> = {
  busybox: [
    "docker.io/library/busybox",
    "docker.io/library/busybox:latest",
    "busybox:latest",
    "docker.io/library/busybox:latest",
  ],
  "busybox:1.36": [
    "docker.io/library/busybox",
    "docker.io/library/busybox:1.36",
    "busybox:1.36",
    "docker.io/library/busybox:1.36",
  ],
  "foo/bar:1": ["docker.io/foo/bar", "docker.io/foo/bar:1", "foo/bar:1", "docker.io/foo/bar:1"],
  [`busybox@${sha256}`]: [
    "docker.io/library/busybox",
    `docker.io/library/busybox@${sha256}`,
    `busybox@${sha256}`,
    null,
  ],
  [`ghcr.io/o/app:v1@${sha256}`]: [
    "ghcr.io/o/app",
    `ghcr.io/o/app:v1@${sha256}`,
    `ghcr.io/o/app:v1@${sha256}`,
    "ghcr.io/o/app:v1",
  ],
  "[::1]:5000/app:v2": [
    "[::1]:5000/app",
    "[::1]:5000/app:v2",
    "[::1]:5000/app:v2",
    "[::1]:5000/app:v2",
  ],
  "foo_bar.com/app:v1": [
    "foo_bar.com/app",
    "foo_bar.com/app:v1",
    "foo_bar.com/app:v1",
    "foo_bar.com/app:v1",
  ],
};

for (const [input, [name, canonical, familiar, pinKey]] of Object.entries(cases)) {
  test(`forms of ${input.slice(0, 40)}`, (t) => {
    const ref = parseReference(input);
    t.is(nameOf(ref), name);
    t.is(canonicalOf(ref), canonical);
    t.is(familiarOf(ref), familiar);
    t.is(pinKeyOf(ref), pinKey);
    t.is(canonicalOf(parseReference(familiar)), canonical);
  });
}

test("withDigest adds a digest and keeps the tag", (t) => {
  const ref = parseReference("busybox:1.36");
  const pinned = withDigest(ref, sha256);
  t.deepEqual(pinned, { ...ref, digest: sha256 });
  t.is(canonicalOf(pinned), `docker.io/library/busybox:1.36@${sha256}`);
  t.is(pinKeyOf(pinned), "docker.io/library/busybox:1.36");
  t.deepEqual(ref.digest, null, "the original is unchanged");
});

test("withDigest replaces an earlier digest", (t) => {
  const ref: ImageReference = parseReference(`busybox@${sha256}`);
  t.is(canonicalOf(withDigest(ref, other)), `docker.io/library/busybox@${other}`);
});

test("withDigest rejects an invalid digest", (t) => {
  const error = t.throws(() => withDigest(parseReference("busybox"), "sha256:abc"), {
    code: "ERR_INVALID_REFERENCE",
  });
  t.is(error.message, `digest "sha256:abc": sha256 needs 64 hex digits, got 3`);
});

/** input → [canonical, familiar], as distribution's String() and FamiliarString(). */
const forms: Record<string, [string, string]> = {
  busybox: ["docker.io/library/busybox:latest", "busybox:latest"],
  "docker.io/library/busybox:1.36": ["docker.io/library/busybox:1.36", "busybox:1.36"],
  "index.docker.io/foo": ["docker.io/library/foo:latest", "foo:latest"],
  "docker.io/foo/bar": ["docker.io/foo/bar:latest", "foo/bar:latest"],
  "library/foo/bar": ["docker.io/library/foo/bar:latest", "library/foo/bar:latest"],
  "ubuntu-12.04-base": ["docker.io/library/ubuntu-12.04-base:latest", "ubuntu-12.04-base:latest"],
  "localhost/fooo/bar": ["localhost/fooo/bar:latest", "localhost/fooo/bar:latest"],
  "LOCALDOMAIN/fooo": ["LOCALDOMAIN/fooo:latest", "LOCALDOMAIN/fooo:latest"],
  "127.0.0.1:8000/private/moonbase": [
    "127.0.0.1:8000/private/moonbase:latest",
    "127.0.0.1:8000/private/moonbase:latest",
  ],
  "example.com/library/foo": ["example.com/library/foo:latest", "example.com/library/foo:latest"],
  [`busybox:latest@${digest}`]: [
    `docker.io/library/busybox:latest@${digest}`,
    `busybox:latest@${digest}`,
  ],
  [`redis@${digest}`]: [`docker.io/library/redis@${digest}`, `redis@${digest}`],
  "docker.io/foo.bar/baz": ["docker.io/foo.bar/baz:latest", "foo.bar/baz:latest"],
  "foo_bar.com/repo": ["foo_bar.com/repo:latest", "foo_bar.com/repo:latest"],
};

for (const [input, [canonical, familiar]] of Object.entries(forms)) {
  test(`canonical and familiar form of ${input.slice(0, 60)}`, (t) => {
    const ref = parseReference(input);
    t.is(canonicalOf(ref), canonical);
    t.is(familiarOf(ref), familiar);
    t.deepEqual(parseReference(canonical), ref);
  });
}
