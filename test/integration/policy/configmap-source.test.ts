import { policyReport } from "../../../src/webhook/policy-report.ts";
import { silentLogger } from "../../../src/observability/index.ts";
import test from "ava";
import { ConfigMapPolicySource } from "../../../src/pins/configmap-source.ts";
import { EventRecorder } from "../../../src/kube/events.ts";
import { Metrics } from "../../../src/observability/metrics.ts";
import { sharedControlPlane } from "../../harness/kube-shared.ts";
import type { Teardown } from "../../harness/lifecycle.ts";
import { digest, pinsYaml, POLICY_HEADER } from "./documents.ts";
import { putConfigMap } from "../../harness/kube-configmaps.ts";
import { waitFor } from "../../harness/wait.ts";

// The ConfigMap policy source against a real API server: watch, swap, keep the last good one.

const controlPlane = sharedControlPlane(test, { controllerManager: false });

async function startSource(t: Teardown, namespace: string, metrics = new Metrics()) {
  const { kubeConfig } = controlPlane();
  const source = new ConfigMapPolicySource({
    kubeConfig,
    namespace,
    report: policyReport(silentLogger(), metrics),
    events: new EventRecorder(kubeConfig),
  });
  t.teardown(() => source.stop());
  await source.start();
  return { source, metrics };
}

const gauge = async (metrics: Metrics, name: string): Promise<number | undefined> =>
  (await metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value;

test("an edit of the policy ConfigMap takes effect within 2 s, swapped in whole", async (t) => {
  const { kubeConfig } = controlPlane();
  const namespace = await controlPlane().namespace(t, "edit");
  const key = "docker.io/library/busybox:1.36";
  const policy = (d: string) => ({ "policy.yaml": POLICY_HEADER + pinsYaml({ [key]: d }) });
  await putConfigMap(kubeConfig, namespace, "digestpin-policy", policy(digest("a")));
  const { source, metrics } = await startSource(t, namespace);
  await waitFor("the first policy", () => source.current());
  t.is(source.generation, 1);
  const first = source.current();
  const seen: number[] = [];
  source.onChange((_, generation) => seen.push(generation));

  const edited = Date.now();
  await putConfigMap(kubeConfig, namespace, "digestpin-policy", policy(digest("b")));
  await waitFor("the edit", () => source.current()?.pins.get(key)?.digest === digest("b"));
  const latency = Date.now() - edited;
  t.log(`edit to effect: ${latency} ms`);
  t.true(latency < 2000);
  t.is(source.generation, 2);
  t.deepEqual(seen, [2]);
  t.is(first?.pins.get(key)?.digest, digest("a"), "the earlier generation is untouched");
  t.is(await gauge(metrics, "digestpin_policy_generation"), 2);
  t.is(await gauge(metrics, "digestpin_policy_valid"), 1);
  t.is(await gauge(metrics, "digestpin_policy_pins"), 1);
});

test("without a valid policy current() stays undefined: missing, then invalid, then valid", async (t) => {
  const { kubeConfig } = controlPlane();
  const namespace = await controlPlane().namespace(t, "first");
  const { source } = await startSource(t, namespace);
  t.is(source.current(), undefined);
  t.regex(source.issues[0]?.message ?? "", /policy ConfigMap does not exist/);

  await putConfigMap(kubeConfig, namespace, "digestpin-policy", {
    "policy.yaml": `${POLICY_HEADER}mode: strict\n`,
  });
  await waitFor("the invalid policy's issues", () =>
    source.issues.some((issue) => issue.path === "mode"),
  );
  t.is(source.current(), undefined);
  t.is(source.generation, 0);

  await putConfigMap(kubeConfig, namespace, "digestpin-policy", {
    "policy.yaml": `${POLICY_HEADER}mode: warn\n`,
  });
  const policy = await waitFor("a valid policy", () => source.current());
  t.is(policy.settings.mode, "warn");
  t.deepEqual(source.issues, []);
});

test("pins split over labelled ConfigMaps are merged; an edit parses only that ConfigMap", async (t) => {
  const { kubeConfig } = controlPlane();
  const namespace = await controlPlane().namespace(t, "split");
  const label = { "digestpin.dev/pins": "true" };
  const pinsOf = (pins: Record<string, string>) => ({
    "pins.yaml": "apiVersion: digestpin.dev/v1alpha1\nkind: Pins\n" + pinsYaml(pins),
  });
  await putConfigMap(kubeConfig, namespace, "digestpin-policy", {
    "policy.yaml": POLICY_HEADER + pinsYaml({ "app:1": digest("1") }),
  });
  for (const n of [2, 3, 4]) {
    await putConfigMap(
      kubeConfig,
      namespace,
      `pins-${n}`,
      pinsOf({ [`app:${n}`]: digest(`${n}`) }),
      label,
    );
  }
  await putConfigMap(kubeConfig, namespace, "unlabelled", pinsOf({ "app:9": digest("9") }));
  const { source } = await startSource(t, namespace);
  const policy = await waitFor(
    "four pins",
    () => source.current()?.pins.size === 4 && source.current(),
  );
  t.is(policy.pins.get("docker.io/library/app:3")?.digest, digest("3"));
  t.is(policy.pins.get("docker.io/library/app:9"), undefined, "an unlabelled ConfigMap is ignored");
  t.deepEqual(policy.sources, [
    `configmap ${namespace}/digestpin-policy`,
    `configmap ${namespace}/pins-2`,
    `configmap ${namespace}/pins-3`,
    `configmap ${namespace}/pins-4`,
  ]);
  const parses = source.parses;

  await putConfigMap(kubeConfig, namespace, "pins-3", pinsOf({ "app:3": digest("5") }), label);
  await waitFor(
    "the edit",
    () => source.current()?.pins.get("docker.io/library/app:3")?.digest === digest("5"),
  );
  t.is(source.parses, parses + 1, "only the edited ConfigMap was parsed again");

  await putConfigMap(kubeConfig, namespace, "pins-4", pinsOf({ "app:4": digest("4") }));
  await waitFor("the unlabelled pins gone", () => source.current()?.pins.size === 3);
  t.is(source.current()?.pins.get("docker.io/library/app:4"), undefined);
});
