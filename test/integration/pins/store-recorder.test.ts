import test from "ava";
import {
  ConfigMapPolicySource,
  SHARD_LIMIT_BYTES,
  StoreFullError,
  StorePinRecorder,
  type StoreLayout,
} from "../../../src/pins/index.ts";
import { checkPolicyDocument, type PinsDocument } from "../../../src/policy/index.ts";
import { putConfigMap, readConfigMapData } from "../../harness/kube-configmaps.ts";
import { sharedControlPlane } from "../../harness/kube-shared.ts";
import { waitFor } from "../../harness/wait.ts";
import { digest, POLICY_HEADER } from "../policy/documents.ts";

// Trust-on-first-use pins recorded into digestpin's pin store by concurrent writers (replicas).

const controlPlane = sharedControlPlane(test, { controllerManager: false });

const layout = (namespace: string, maxShards = 64): StoreLayout => ({
  namespace,
  prefix: "digestpin-pins",
  maxShards,
  legacy: "digestpin-pins-auto",
});

/** A recorder of its own, as another webhook replica would have. */
const recorder = (namespace: string, maxShards?: number) =>
  new StorePinRecorder({
    kubeConfig: controlPlane().kubeConfig,
    layout: layout(namespace, maxShards),
    now: () => new Date("2026-11-26T10:00:00.250Z"),
  });

const record = (key: string, d: string) => ({ key, digest: d, history: [] });
const digestOf = (writer: number) => `sha256:${writer.toString(16).padStart(4, "0").repeat(16)}`;

async function shard(namespace: string, name: string): Promise<PinsDocument | undefined> {
  const data = await readConfigMapData(controlPlane().kubeConfig, namespace, name);
  if (data === undefined) return undefined;
  const result = checkPolicyDocument(data["pins.yaml"] ?? "", name, { expect: "Pins" });
  if (!result.ok || result.document.kind !== "Pins") throw new Error(`invalid ${name}`);
  return result.document;
}

async function storeConfigMaps(namespace: string) {
  const run = await controlPlane().kubectl([
    "get",
    "configmap",
    "-n",
    namespace,
    "-l",
    "digestpin.dev/store=true,digestpin.dev/pins=true",
    "-o",
    "jsonpath={range .items[*]}{.metadata.name}{' '}{end}",
  ]);
  return run.stdout
    .trim()
    .split(" ")
    .filter((name) => name !== "");
}

test("the first record creates the store's first shard, labelled, and stamps pinnedAt; the policy is not touched", async (t) => {
  const namespace = await controlPlane().namespace(t, "create");
  const key = "docker.io/library/busybox:1.36";
  const result = await recorder(namespace).record(key, {
    ...record(key, digest("a")),
    pinnedBy: "digestpin (trust-on-first-use)",
    reason: "first used in namespace web",
  });
  t.deepEqual(result, { outcome: "recorded", digest: digest("a") });
  const [pin, ...more] = (await shard(namespace, "digestpin-pins-000"))?.pins ?? [];
  t.is(more.length, 0);
  t.like(pin, {
    key,
    digest: digest("a"),
    pinnedAt: "2026-11-26T10:00:00Z",
    pinnedBy: "digestpin (trust-on-first-use)",
    reason: "first used in namespace web",
  });
  t.deepEqual(await storeConfigMaps(namespace), ["digestpin-pins-000"]);
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
  const recorded = results.filter((r) => r.outcome === "recorded");
  t.is(recorded.length, 1, "exactly one writer recorded its digest");
  const winner = recorded[0]!.digest;
  t.true(
    results.every((r) => r.digest === winner),
    "every writer learns the winning digest",
  );
  const pins = (await shard(namespace, "digestpin-pins-000"))?.pins ?? [];
  t.deepEqual(
    pins.map((p) => [p.key, p.digest]),
    [[key, winner]],
  );
});

test("20 concurrent writers over 10 keys: every key pinned once, to its first writer's digest", async (t) => {
  const namespace = await controlPlane().namespace(t, "many-keys");
  const writers = Array.from({ length: 20 }, () => recorder(namespace));
  const keyOf = (i: number) => `docker.io/library/app${i % 10}:1`;
  const results = await Promise.all(
    writers.map(async (w, i) => ({
      i,
      result: await w.record(keyOf(i), record(keyOf(i), digestOf(i))),
    })),
  );
  const pins = (await shard(namespace, "digestpin-pins-000"))?.pins ?? [];
  t.is(pins.length, 10);
  for (let k = 0; k < 10; k++) {
    const key = keyOf(k);
    const mine = results.filter(({ i }) => keyOf(i) === key);
    const winner = pins.find((p) => p.key === key)?.digest;
    t.true(
      mine.some((o) => o.result.outcome === "recorded" && o.result.digest === winner),
      key,
    );
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
  const writer = new StorePinRecorder({
    kubeConfig,
    layout: layout(namespace),
    policy: () => source.current(),
  });
  t.deepEqual(
    await writer.record("docker.io/library/app:1", record("docker.io/library/app:1", digest("9"))),
    { outcome: "already-pinned", digest: digest("1") },
  );
  t.deepEqual(
    await writer.record("docker.io/library/app:2", record("docker.io/library/app:2", digest("2"))),
    { outcome: "recorded", digest: digest("2") },
  );
  await waitFor("the recorded pin in force", () =>
    source.current()?.pins.get("docker.io/library/app:2"),
  );
  t.is(source.current()?.pins.get("docker.io/library/app:1")?.digest, digest("1"));
  const policy = await readConfigMapData(kubeConfig, namespace, "digestpin-policy");
  t.false(policy?.["policy.yaml"]?.includes("app:2"), "the policy ConfigMap is never written");
});

test("a full shard rolls over to the next; a full store refuses with what to do, and keeps what it holds", async (t) => {
  const namespace = await controlPlane().namespace(t, "full");
  const filler = (from: number) => {
    let text = `apiVersion: digestpin.dev/v1alpha1\nkind: Pins\npins:\n`;
    for (let i = from; Buffer.byteLength(text) < 780 * 1024; i++) {
      text += `  r.example/team/s${i}:1.0: ${digestOf(i % 4096)}\n`;
    }
    return text;
  };
  const labels = { "digestpin.dev/pins": "true", "digestpin.dev/store": "true" };
  const full0 = filler(0);
  await putConfigMap(
    controlPlane().kubeConfig,
    namespace,
    "digestpin-pins-000",
    { "pins.yaml": full0 },
    labels,
  );
  const key = "docker.io/library/busybox:1.36";
  t.deepEqual(await recorder(namespace, 2).record(key, record(key, digest("a"))), {
    outcome: "recorded",
    digest: digest("a"),
  });
  t.deepEqual(await storeConfigMaps(namespace), ["digestpin-pins-000", "digestpin-pins-001"]);
  t.deepEqual(
    (await shard(namespace, "digestpin-pins-001"))?.pins.map((p) => p.key),
    [key],
  );
  t.is(
    (await readConfigMapData(controlPlane().kubeConfig, namespace, "digestpin-pins-000"))?.[
      "pins.yaml"
    ],
    full0,
  );

  const full1 = filler(100_000);
  await putConfigMap(
    controlPlane().kubeConfig,
    namespace,
    "digestpin-pins-001",
    { "pins.yaml": full1 },
    labels,
  );
  const other = "docker.io/library/alpine:3.20";
  const error = await t.throwsAsync(
    recorder(namespace, 2).record(other, record(other, digest("b"))),
    {
      instanceOf: StoreFullError,
    },
  );
  t.regex(
    error.message,
    /the pin store configmap full-\w+\/digestpin-pins-\* is full \(2 ConfigMaps/,
  );
  t.regex(error.message, /raise pinStore\.maxShards/);
  t.false(error.retriable);
  t.is(
    (await readConfigMapData(controlPlane().kubeConfig, namespace, "digestpin-pins-001"))?.[
      "pins.yaml"
    ],
    full1,
  );
});

test("20,000 pins recorded by two replicas at once: several ConfigMaps, each under 1 MiB, all in force, none lost", async (t) => {
  const namespace = await controlPlane().namespace(t, "many");
  const { kubeConfig } = controlPlane();
  await putConfigMap(kubeConfig, namespace, "digestpin-policy", {
    "policy.yaml": `${POLICY_HEADER}unpinned: trust-on-first-use\n`,
  });
  const replicas = [recorder(namespace), recorder(namespace)];
  const started = Date.now();
  const keyOf = (i: number) => `registry.example/team/app${String(i)}:1.0`;
  const results = await Promise.all(
    Array.from({ length: 20_000 }, (_, i) =>
      replicas[i % 2]!.record(keyOf(i), {
        ...record(keyOf(i), digestOf(i % 65536)),
        pinnedBy: "digestpin (trust-on-first-use)",
        reason: `first used in namespace team-${String(i % 50)}`,
      }),
    ),
  );
  t.log(`20,000 pins recorded in ${String(Date.now() - started)} ms`);
  t.true(results.every((r) => r.outcome === "recorded"));
  const names = await storeConfigMaps(namespace);
  t.true(names.length >= 5, names.join(" "));
  for (const name of names) {
    const data = await readConfigMapData(kubeConfig, namespace, name);
    t.true(Buffer.byteLength(data?.["pins.yaml"] ?? "") < SHARD_LIMIT_BYTES, name);
  }
  const source = new ConfigMapPolicySource({ kubeConfig, namespace });
  t.teardown(() => source.stop());
  await source.start();
  const policy = await waitFor("the policy", () => source.current(), 60_000);
  t.is(policy.pins.size, 20_000);
  for (let i = 0; i < 20_000; i += 997)
    t.is(policy.pins.get(keyOf(i))?.digest, digestOf(i % 65536));
});
