import test from "ava";
import {
  checkPolicyDocument,
  formatIssue,
  parsePolicyDocument,
} from "../../../src/policy/index.ts";
import { D, digest, E, HEADER } from "./fixtures.ts";

const pinsOf = (body: string) => parsePolicyDocument(HEADER + body, "policy.yaml").pins;

function errors(body: string): string[] {
  const result = checkPolicyDocument(HEADER + body, "policy.yaml");
  return result.ok ? [] : result.issues.map(formatIssue);
}

test("short and long forms; familiar keys are normalized", (t) => {
  const pins = pinsOf(`pins:
  docker.io/library/busybox:1.36: ${D}
  busybox:1.37:
    digest: ${E}
    pinnedAt: "2026-11-26T10:00:00Z"
    pinnedBy: alice@example.com
    reason: reviewed release
    platforms: { linux/amd64: ${digest("1")}, linux/arm/v7: ${digest("2")} }
    history:
      - digest: ${digest("3")}
        pinnedAt: 2026-11-01T09:00:00+01:00
        pinnedBy: bob
        reason: first
        replacedAt: "2026-11-26T10:00:00.123Z"
        replacedBy: alice@example.com
        replaceReason: upstream fix
  ghcr.io/acme/app: ${D}
  localhost:5000/app:v1: ${D}
`);
  t.deepEqual(pins, [
    {
      key: "docker.io/library/busybox:1.36",
      digest: D,
      history: [],
      origin: { source: "policy.yaml", line: 4, column: 3 },
    },
    {
      key: "docker.io/library/busybox:1.37",
      digest: E,
      pinnedAt: "2026-11-26T10:00:00Z",
      pinnedBy: "alice@example.com",
      reason: "reviewed release",
      platforms: { "linux/amd64": digest("1"), "linux/arm/v7": digest("2") },
      history: [
        {
          digest: digest("3"),
          pinnedAt: "2026-11-01T09:00:00+01:00",
          pinnedBy: "bob",
          reason: "first",
          replacedAt: "2026-11-26T10:00:00.123Z",
          replacedBy: "alice@example.com",
          replaceReason: "upstream fix",
        },
      ],
      origin: { source: "policy.yaml", line: 5, column: 3 },
    },
    {
      key: "ghcr.io/acme/app:latest",
      digest: D,
      history: [],
      origin: { source: "policy.yaml", line: 19, column: 3 },
    },
    {
      key: "localhost:5000/app:v1",
      digest: D,
      history: [],
      origin: { source: "policy.yaml", line: 20, column: 3 },
    },
  ]);
});

test("the example error: a digest that is not sha256", (t) => {
  t.deepEqual(errors(`pins:\n  docker.io/library/busybox:1.36:\n    digest: sha256:abc\n`), [
    'policy.yaml:5:13: pins["docker.io/library/busybox:1.36"].digest: "sha256:abc" is not a sha256 digest (64 lowercase hex)',
  ]);
  t.deepEqual(errors(`pins:\n  busybox:1.36: ${D.toUpperCase()}\n`), [
    `policy.yaml:4:17: pins["busybox:1.36"]: "${D.toUpperCase()}" is not a sha256 digest (64 lowercase hex)`,
  ]);
  t.deepEqual(errors(`pins:\n  busybox:1.36: sha512:${"a".repeat(128)}\n`).length, 1);
});

test("two spellings of one key are an error naming both lines", (t) => {
  t.deepEqual(errors(`pins:\n  docker.io/library/busybox:1.36: ${D}\n  busybox:1.36: ${D}\n`), [
    'policy.yaml:5:3: pins["busybox:1.36"]: "docker.io/library/busybox:1.36" is already pinned at line 4:3; keep one',
  ]);
  t.deepEqual(errors(`pins:\n  busybox: ${D}\n  index.docker.io/library/busybox:latest: ${D}\n`), [
    'policy.yaml:5:3: pins["index.docker.io/library/busybox:latest"]: "docker.io/library/busybox:latest" is already pinned at line 4:3 ("busybox"); keep one',
  ]);
  t.deepEqual(errors(`pins:\n  busybox:1: ${D}\n  busybox:1: ${E}\n`), [
    'policy.yaml:5:3: pins["busybox:1"]: duplicate key "busybox:1": already at line 4:3',
  ]);
});

test("keys must be image references with a tag and no digest", (t) => {
  t.deepEqual(
    errors(`pins:
  Busybox:1: ${D}
  busybox@${D}: ${D}
  busybox:1@${D}: ${D}
  "busybox:-x": ${D}
`),
    [
      'policy.yaml:4:3: pins["Busybox:1"]: not an image reference: name "Busybox": repository path must be lowercase',
      `policy.yaml:5:3: pins["busybox@${D}"]: a pin key names a tag, not a digest: write "docker.io/library/busybox:TAG" and put the digest in the value`,
      `policy.yaml:6:3: pins["busybox:1@${D}"]: a pin key names a tag, not a digest: write "docker.io/library/busybox:1" and put the digest in the value`,
      `policy.yaml:7:3: pins["busybox:-x"]: not an image reference: tag "-x": must start with a letter, digit or underscore`,
    ],
  );
});

test("values: a digest or a mapping; every field checked", (t) => {
  t.deepEqual(
    errors(`pins:
  a:1:
  b:1: [${D}]
  c:1:
    pinnedBy: alice
  d:1:
    digest: ${D}
    pinnedAt: yesterday
    pinnedBy: 42
    note: x
    platforms:
      linux: ${D}
      linux/amd64: sha256:0
      linux/arm64:
  e:1:
    digest: ${D}
    platforms: [linux/amd64]
    history:
      - ${D}
      - digest: ${D}
        replacedAt: "2026-02-30T00:00:00Z"
        why: x
  7: ${D}
`),
    [
      'policy.yaml:4:3: pins["a:1"]: a digest is required, e.g. "sha256:" and 64 hex digits',
      'policy.yaml:5:8: pins["b:1"]: expected a digest or a mapping with digest, got a list',
      'policy.yaml:7:5: pins["c:1"].digest: is required, e.g. "sha256:" and 64 hex digits',
      'policy.yaml:10:15: pins["d:1"].pinnedAt: "yesterday" is not an RFC 3339 time (e.g. "2026-11-26T10:00:00Z")',
      'policy.yaml:11:15: pins["d:1"].pinnedBy: expected a string, got the number 42',
      'policy.yaml:12:5: pins["d:1"].note: unknown key "note"; expected one of digest, pinnedAt, pinnedBy, reason, platforms, history',
      'policy.yaml:14:7: pins["d:1"].platforms["linux"]: "linux" is not a platform (os/architecture[/variant], e.g. "linux/arm64")',
      'policy.yaml:15:20: pins["d:1"].platforms["linux/amd64"]: "sha256:0" is not a sha256 digest (64 lowercase hex)',
      'policy.yaml:16:7: pins["d:1"].platforms["linux/arm64"]: a digest is required',
      'policy.yaml:19:16: pins["e:1"].platforms: expected a mapping, got a list',
      `policy.yaml:21:9: pins["e:1"].history[0]: expected a mapping, got "${D}"`,
      'policy.yaml:23:21: pins["e:1"].history[1].replacedAt: "2026-02-30T00:00:00Z" is not an RFC 3339 time (e.g. "2026-11-26T10:00:00Z")',
      'policy.yaml:24:9: pins["e:1"].history[1].why: unknown key "why"; expected one of digest, pinnedAt, pinnedBy, reason, replacedAt, replacedBy, replaceReason, review',
      "policy.yaml:25:3: pins: keys must be strings, got the number 7",
    ],
  );
});

test("pins must be a mapping", (t) => {
  t.deepEqual(errors(`pins: [busybox]\n`), [
    "policy.yaml:3:7: pins: expected a mapping of image:tag to digest, got a list",
  ]);
});

test("RFC 3339 times: offsets, fractions, leap seconds; not dates alone", (t) => {
  const at = (time: string) => errors(`pins:\n  a:1:\n    digest: ${D}\n    pinnedAt: "${time}"\n`);
  t.deepEqual(at("2026-11-26T10:00:00Z"), []);
  t.deepEqual(at("2026-11-26t10:00:00.5-05:30"), []);
  t.deepEqual(at("2024-02-29T00:00:00Z"), []);
  t.deepEqual(at("2016-12-31T23:59:60Z"), []);
  for (const bad of [
    "2026-11-26",
    "2026-11-26 10:00:00Z",
    "2026-13-01T00:00:00Z",
    "2025-02-29T00:00:00Z",
    "2026-11-26T24:00:00Z",
    "2026-11-26T10:00:00",
  ]) {
    t.is(at(bad).length, 1, bad);
  }
});
