import test from "ava";
import {
  buildPolicy,
  formatIssue,
  mergePins,
  parsePolicyDocument,
  PinIndex,
  PolicyInvalidError,
  type PinRecord,
} from "../../../src/policy/index.ts";
import { D, digest, E, HEADER } from "./fixtures.ts";

const PINS_HEADER = "apiVersion: digestpin.dev/v1alpha1\nkind: Pins\n";
const pins = (source: string, body: string) =>
  parsePolicyDocument(PINS_HEADER + body, source, { expect: "Pins" });

test("pins from several sources are merged; lookup is by canonical key", (t) => {
  const store = mergePins([
    pins("policy.yaml", `pins:\n  busybox:1.36: ${D}\n`),
    pins("configmap digestpin-system/digestpin-pins-auto", `pins:\n  ghcr.io/acme/app:v1: ${E}\n`),
  ]);
  t.is(store.size, 2);
  t.is(store.get("docker.io/library/busybox:1.36")?.digest, D);
  t.is(store.get("ghcr.io/acme/app:v1")?.digest, E);
  t.is(store.get("busybox:1.36"), undefined);
  t.deepEqual([...store.records()].map((r) => r.key).sort(), [
    "docker.io/library/busybox:1.36",
    "ghcr.io/acme/app:v1",
  ]);
});

test("one key pinned to two digests in two sources is an error naming both", (t) => {
  const error = t.throws(
    () =>
      mergePins([
        pins("policy.yaml", `pins:\n  busybox:1.36: ${D}\n  nginx:1: ${D}\n`),
        pins(
          "configmap digestpin-system/digestpin-pins-auto",
          `pins:\n  docker.io/library/busybox:1.36: ${E}\n  nginx:1: ${E}\n`,
        ),
      ]),
    { instanceOf: PolicyInvalidError },
  );
  t.is(error.code, "ERR_POLICY_INVALID");
  t.deepEqual(error.issues.map(formatIssue), [
    `configmap digestpin-system/digestpin-pins-auto:4:3: pins["docker.io/library/busybox:1.36"]: pinned to ${E} here but to ${D} in policy.yaml:4:3; a tag has one pin: remove one of them`,
    `configmap digestpin-system/digestpin-pins-auto:5:3: pins["docker.io/library/nginx:1"]: pinned to ${E} here but to ${D} in policy.yaml:5:3; a tag has one pin: remove one of them`,
  ]);
});

test("records built in code (no position) are named by their source", (t) => {
  const record: PinRecord = { key: "docker.io/library/busybox:1.36", digest: E, history: [] };
  const error = t.throws(
    () =>
      mergePins([
        { source: "first", pins: [{ ...record, digest: D }] },
        { source: "second", pins: [record] },
      ]),
    { instanceOf: PolicyInvalidError },
  );
  t.deepEqual(error.issues.map(formatIssue), [
    `second: pins["docker.io/library/busybox:1.36"]: pinned to ${E} here but to ${D} in first; a tag has one pin: remove one of them`,
  ]);
});

test("the same digest twice is fine; the richer record is kept", (t) => {
  const bare = pins("a.yaml", `pins:\n  busybox:1.36: ${D}\n`);
  const rich = pins(
    "b.yaml",
    `pins:\n  busybox:1.36:\n    digest: ${D}\n    pinnedBy: alice\n    reason: reviewed\n`,
  );
  const withHistory = pins(
    "c.yaml",
    `pins:\n  busybox:1.36:\n    digest: ${D}\n    history:\n      - digest: ${E}\n`,
  );
  t.is(mergePins([bare, rich]).get("docker.io/library/busybox:1.36")?.pinnedBy, "alice");
  t.is(mergePins([rich, bare]).get("docker.io/library/busybox:1.36")?.pinnedBy, "alice");
  t.is(mergePins([rich, withHistory]).get("docker.io/library/busybox:1.36")?.history.length, 1);
  t.is(mergePins([bare, bare]).get("docker.io/library/busybox:1.36")?.origin?.source, "a.yaml");
});

test("the digest index finds repositories and the pins using a digest", (t) => {
  const store = mergePins([
    pins(
      "p.yaml",
      `pins:
  busybox:1.36:
    digest: ${D}
    platforms: { linux/arm64: ${digest("a")} }
  busybox:1.36.1: ${D}
  ghcr.io/mirror/busybox:1.36: ${D}
  nginx:1: ${E}
`,
    ),
  ]);
  t.deepEqual([...store.repositoriesWith(D)].sort(), [
    "docker.io/library/busybox",
    "ghcr.io/mirror/busybox",
  ]);
  t.deepEqual(
    store.usesOf("docker.io/library/busybox", D).map((u) => u.key),
    ["docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36.1"],
  );
  t.deepEqual(store.usesOf("docker.io/library/busybox", digest("a")), [
    {
      key: "docker.io/library/busybox:1.36",
      repository: "docker.io/library/busybox",
      platform: "linux/arm64",
    },
  ]);
  t.deepEqual(store.usesOf("docker.io/library/nginx", D), []);
  t.deepEqual([...store.repositoriesWith(digest("0"))], []);
});

test("buildPolicy merges the policy's pins first, then the pins documents", (t) => {
  const policy = buildPolicy(
    parsePolicyDocument(`${HEADER}pins:\n  busybox:1.36: ${D}\n`, "policy.yaml", {
      expect: "Policy",
    }),
    [pins("configmap ns/more", `pins:\n  nginx:1: ${E}\n`)],
  );
  t.is(policy.pins.size, 2);
  t.deepEqual(policy.sources, ["policy.yaml", "configmap ns/more"]);
  t.is(PinIndex.empty.size, 0);
});

test("100k pins merge and index (linear; no timing asserted)", (t) => {
  const records: PinRecord[] = [];
  for (let i = 0; i < 100_000; i++) {
    const hex = i.toString(16).padStart(64, "0");
    records.push({
      key: `registry.example.com/team/app${i}:v1`,
      digest: `sha256:${hex}`,
      history: [],
    });
  }
  const store = mergePins([{ source: "big", pins: records }]);
  t.is(store.size, 100_000);
  t.is(store.get("registry.example.com/team/app99999:v1")?.digest, records[99_999]!.digest);
  t.is(store.usesOf("registry.example.com/team/app5", records[5]!.digest).length, 1);
});
