import { policyReport } from "../../../src/webhook/policy-report.ts";
import { silentLogger } from "../../../src/observability/index.ts";
import { CoreV1Api, type CoreV1Event } from "@kubernetes/client-node";
import test from "ava";
import { ConfigMapPolicySource } from "../../../src/pins/configmap-source.ts";
import { EventRecorder } from "../../../src/kube/events.ts";
import { Metrics } from "../../../src/observability/metrics.ts";
import { sharedControlPlane } from "../../harness/kube-shared.ts";
import type { Teardown } from "../../harness/lifecycle.ts";
import { digest, PINS_HEADER, pinsYaml, POLICY_HEADER } from "./documents.ts";
import { putConfigMap } from "../../harness/kube-configmaps.ts";
import { waitFor } from "../../harness/wait.ts";

// Invalid edits of the policy ConfigMaps: the last good policy stays, and people are told.

const controlPlane = sharedControlPlane(test, { controllerManager: false });
const KEY = "docker.io/library/busybox:1.36";
const LABEL = { "digestpin.dev/pins": "true" };

async function startSource(t: Teardown, namespace: string) {
  const { kubeConfig } = controlPlane();
  const metrics = new Metrics();
  const events = new EventRecorder(kubeConfig, { instance: "test" });
  const source = new ConfigMapPolicySource({
    kubeConfig,
    namespace,
    report: policyReport(silentLogger(), metrics),
    events,
  });
  t.teardown(() => source.stop());
  await source.start();
  return { source, metrics };
}

const value = async (metrics: Metrics, name: string) =>
  (await metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value;

async function eventsOn(namespace: string, name: string): Promise<CoreV1Event[]> {
  const core = controlPlane().kubeConfig.makeApiClient(CoreV1Api);
  const list = await core.listNamespacedEvent({
    namespace,
    fieldSelector: `involvedObject.kind=ConfigMap,involvedObject.name=${name}`,
  });
  return list.items;
}

const invalidEdits = {
  "bad YAML": `${POLICY_HEADER}pins: [unclosed\n`,
  "a bad digest": `${POLICY_HEADER}pins:\n  busybox:1.36: sha256:abc\n`,
  "an unknown key": `${POLICY_HEADER}mdoe: warn\n`,
};

for (const [what, text] of Object.entries(invalidEdits)) {
  test(`${what}: the last good policy stays, the issues are logged, counted and an Event`, async (t) => {
    const { kubeConfig } = controlPlane();
    const namespace = await controlPlane().namespace(t, "invalid");
    const good = POLICY_HEADER + pinsYaml({ [KEY]: digest("a") });
    await putConfigMap(kubeConfig, namespace, "digestpin-policy", { "policy.yaml": good });
    const { source, metrics } = await startSource(t, namespace);
    const policy = await waitFor("the good policy", () => source.current());

    await putConfigMap(kubeConfig, namespace, "digestpin-policy", { "policy.yaml": text });
    await waitFor("the rejection", () => source.issues.length > 0);
    t.is(source.current(), policy, "the very same policy object stays in force");
    t.is(source.generation, 1);
    t.is(await value(metrics, "digestpin_policy_valid"), 0);
    t.is(await value(metrics, "digestpin_policy_load_errors_total"), 1);
    t.is(await value(metrics, "digestpin_policy_generation"), 1);

    const [event, ...more] = await waitFor("the Event", async () => {
      const events = await eventsOn(namespace, "digestpin-policy");
      return events.length > 0 && events;
    });
    t.is(more.length, 0);
    t.is(event?.type, "Warning");
    t.is(event?.reason, "InvalidPolicy");
    t.is(event?.involvedObject.namespace, namespace);
    const issue = source.issues[0];
    t.truthy(issue);
    t.true(event?.message?.includes(`configmap ${namespace}/digestpin-policy:${issue?.line}:`));
    t.true(event?.message?.includes(issue?.message ?? "?"), event?.message);

    await putConfigMap(kubeConfig, namespace, "digestpin-policy", { "policy.yaml": good });
    await waitFor("the fixed policy", () => source.generation === 2);
    t.is(await value(metrics, "digestpin_policy_valid"), 1);
  });
}

test("a tag pinned to two digests in two ConfigMaps is rejected, naming both", async (t) => {
  const { kubeConfig } = controlPlane();
  const namespace = await controlPlane().namespace(t, "conflict");
  const pins = (d: string) => ({ "pins.yaml": PINS_HEADER + pinsYaml({ "busybox:1.36": d }) });
  await putConfigMap(kubeConfig, namespace, "digestpin-policy", { "policy.yaml": POLICY_HEADER });
  await putConfigMap(kubeConfig, namespace, "team-a", pins(digest("a")), LABEL);
  const { source } = await startSource(t, namespace);
  await waitFor("team-a's pin", () => source.current()?.pins.get(KEY));

  await putConfigMap(kubeConfig, namespace, "team-b", pins(digest("b")), LABEL);
  await waitFor("the conflict", () => source.issues.length > 0);
  const [issue] = source.issues;
  t.is(issue?.source, `configmap ${namespace}/team-b`);
  t.true(issue?.message.includes(`configmap ${namespace}/team-a:4:3`), issue?.message);
  t.is(source.current()?.pins.get(KEY)?.digest, digest("a"), "the last good policy stays");
  const [event] = await waitFor("the Event on team-b", async () => {
    const events = await eventsOn(namespace, "team-b");
    return events.length > 0 && events;
  });
  t.regex(
    event?.message ?? "",
    /team-b:4:3: pins\["docker.io\/library\/busybox:1.36"\]: pinned to/,
  );
  t.regex(event?.message ?? "", new RegExp(`in configmap ${namespace}/team-a:4:3`));
  t.deepEqual(await eventsOn(namespace, "team-a"), [], "team-a was not edited and is not at fault");
});
