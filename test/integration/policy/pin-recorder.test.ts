import test from "ava";
import { ConfigMapPolicySource } from "../../../src/pins/configmap-source.ts";
import {
  AUTO_PINS_MAX_BYTES,
  AutoPinsFullError,
  ConfigMapPinRecorder,
  type RecordResult,
} from "../../../src/pins/pin-recorder.ts";
import { checkPolicyDocument } from "../../../src/policy/document/document.ts";
import type { PinsDocument } from "../../../src/policy/document/schema.ts";
import { sharedControlPlane } from "../../harness/kube-shared.ts";
import { digest, PINS_HEADER, POLICY_HEADER } from "./documents.ts";
import { putConfigMap, readConfigMapData } from "../../harness/kube-configmaps.ts";
import { waitFor } from "../../harness/wait.ts";

// Trust-on-first-use pins written to their own ConfigMap by concurrent writers.

const controlPlane = sharedControlPlane(test, { controllerManager: false });

/** A recorder of its own, as another webhook replica would have. */
const recorder = (namespace: string, now = () => new Date("2026-11-26T10:00:00.250Z")) =>
  new ConfigMapPinRecorder({ kubeConfig: controlPlane().kubeConfig, namespace, now });

const record = (key: string, d: string) => ({ key, digest: d, history: [] });
const digestOf = (writer: number) => `sha256:${writer.toString(16).padStart(2, "0").repeat(32)}`;

async function autoPins(namespace: string): Promise<PinsDocument> {
  const data = await readConfigMapData(controlPlane().kubeConfig, namespace, "digestpin-pins-auto");
  const result = checkPolicyDocument(data?.["pins.yaml"] ?? "", "auto", { expect: "Pins" });
  if (!result.ok || result.document.kind !== "Pins") throw new Error("invalid auto pins");
  return result.document;
}

test("the first record creates the labelled auto-pins ConfigMap and stamps pinnedAt", async (t) => {
  const namespace = await controlPlane().namespace(t, "create");
  const key = "docker.io/library/busybox:1.36";
  const result = await recorder(namespace).record(key, {
    ...record(key, digest("a")),
    pinnedBy: "digestpin (trust-on-first-use)",
    reason: "first used in namespace web",
  });
  t.deepEqual(result, { outcome: "recorded", digest: digest("a") });
  const [pin, ...more] = (await autoPins(namespace)).pins;
  t.is(more.length, 0);
  t.like(pin, {
    key,
    digest: digest("a"),
    pinnedAt: "2026-11-26T10:00:00Z",
    pinnedBy: "digestpin (trust-on-first-use)",
    reason: "first used in namespace web",
  });
  const labels = await controlPlane().kubectl([
    "get",
    "configmap",
    "-n",
    namespace,
    "-l",
    "digestpin.dev/pins=true",
    "-o",
    "name",
  ]);
  t.is(labels.stdout, "configmap/digestpin-pins-auto\n");
  t.is(
    await readConfigMapData(controlPlane().kubeConfig, namespace, "digestpin-policy"),
    undefined,
  );
});

test("20 concurrent writers with different digests for one key: one pin, the first wins", async (t) => {
  const namespace = await controlPlane().namespace(t, "one-key");
  const key = "docker.io/library/nginx:1.27";
  const writers = Array.from({ length: 20 }, () => recorder(namespace));
  const results = await Promise.all(writers.map((w, i) => w.record(key, record(key, digestOf(i)))));
  t.is(new Set(writers.map((_, i) => digestOf(i))).size, 20, "20 different digests");
  const recorded = results.filter((r) => r.outcome === "recorded");
  t.is(recorded.length, 1, "exactly one writer recorded its digest");
  const winner = recorded[0]!.digest;
  t.true(
    results.every((r) => r.digest === winner),
    "every writer learns the winning digest",
  );
  const { pins } = await autoPins(namespace);
  t.deepEqual(
    pins.map((p) => [p.key, p.digest]),
    [[key, winner]],
  );
});

test("20 concurrent writers over 10 keys: every key pinned once, to its first writer's digest", async (t) => {
  const namespace = await controlPlane().namespace(t, "many-keys");
  const keys = Array.from({ length: 10 }, (_, k) => `registry.example/team/app:v${k}`);
  const calls: Promise<{ key: string; writer: number; result: RecordResult }>[] = [];
  for (let writer = 0; writer < 20; writer++) {
    const w = recorder(namespace);
    for (const [k, key] of keys.entries()) {
      if ((k + writer) % 2 !== 0) continue; // each writer records half of the keys
      calls.push(
        w.record(key, record(key, digestOf(writer))).then((result) => ({ key, writer, result })),
      );
    }
  }
  const outcomes = await Promise.all(calls);
  const { pins } = await autoPins(namespace);
  t.is(pins.length, keys.length);
  for (const key of keys) {
    const mine = outcomes.filter((o) => o.key === key);
    const recorded = mine.filter((o) => o.result.outcome === "recorded");
    t.is(recorded.length, 1, key);
    const winner = recorded[0]!.result.digest;
    t.is(pins.find((p) => p.key === key)?.digest, winner, key);
    t.true(
      mine.every((o) => o.result.digest === winner),
      key,
    );
  }
});

test("a pin already in the policy is not recorded; recorded pins reach the policy source", async (t) => {
  const namespace = await controlPlane().namespace(t, "source");
  const { kubeConfig } = controlPlane();
  await putConfigMap(kubeConfig, namespace, "digestpin-policy", {
    "policy.yaml": `${POLICY_HEADER}unpinned: trust-on-first-use\npins:\n  app:1: ${digest("1")}\n`,
  });
  const source = new ConfigMapPolicySource({ kubeConfig, namespace });
  t.teardown(() => source.stop());
  await source.start();
  await waitFor("the policy", () => source.current());
  const writer = new ConfigMapPinRecorder({
    kubeConfig,
    namespace,
    policy: () => source.current(),
  });

  t.deepEqual(
    await writer.record("docker.io/library/app:1", record("docker.io/library/app:1", digest("9"))),
    {
      outcome: "already-pinned",
      digest: digest("1"),
    },
  );
  t.deepEqual(
    await writer.record("docker.io/library/app:2", record("docker.io/library/app:2", digest("2"))),
    {
      outcome: "recorded",
      digest: digest("2"),
    },
  );
  await waitFor("the recorded pin in force", () =>
    source.current()?.pins.get("docker.io/library/app:2"),
  );
  t.is(source.current()?.pins.size, 2);
  t.deepEqual(
    (await autoPins(namespace)).pins.map((p) => p.key),
    ["docker.io/library/app:2"],
  );
});

test("a full auto-pins ConfigMap refuses the pin with what to do, and keeps what it holds", async (t) => {
  const namespace = await controlPlane().namespace(t, "full");
  // Real pins up to a few hundred bytes under the limit: the next pin does not fit.
  const pins: string[] = [];
  let size = Buffer.byteLength(`${PINS_HEADER}pins:\n`);
  for (let i = 0; size < AUTO_PINS_MAX_BYTES - 300; i++) {
    const line = `  r.example/team/s${i}:1.0: ${digestOf(i % 256)}\n`;
    pins.push(line);
    size += Buffer.byteLength(line);
  }
  const full = `${PINS_HEADER}pins:\n${pins.join("")}`;
  const labels = { "digestpin.dev/pins": "true" };
  await putConfigMap(
    controlPlane().kubeConfig,
    namespace,
    "digestpin-pins-auto",
    { "pins.yaml": full },
    labels,
  );
  const key = "docker.io/library/busybox:1.36";
  const error = await t.throwsAsync(
    recorder(namespace).record(key, {
      ...record(key, digest("a")),
      pinnedBy: "digestpin (trust-on-first-use)",
      reason: "first used in namespace web with a reason long enough to pass the limit",
    }),
    { instanceOf: AutoPinsFullError },
  );
  t.regex(error.message, /digestpin-pins-auto is full .*move them to a pins ConfigMap/);
  t.false(error.retriable);
  const data = await readConfigMapData(controlPlane().kubeConfig, namespace, "digestpin-pins-auto");
  t.is(data?.["pins.yaml"], full);
});
