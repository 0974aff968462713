import test from "ava";
import { handleReview } from "../../../src/admission/handler.ts";
import { nameOnlyLabels } from "../../../src/policy/decide/namespace-settings.ts";
import { D, E, decodePatch, harness, pinnedPolicy, pod, podSpec, request } from "./fixtures.ts";

const moved = { "docker.io/library/busybox:1.36": E };
const served = { "docker.io/library/busybox:1.36": D };
const owner = (kind: string) => ({
  ownerReferences: [{ apiVersion: "apps/v1", kind, name: "web-1", uid: "u-1", controller: true }],
});
const workload = (kind: string, metadata: object, image = "busybox:1.36") => ({
  apiVersion: "apps/v1",
  kind,
  metadata: { name: "web", ...metadata },
  spec: { template: { metadata: {}, spec: podSpec({ app: image }) } },
});

test("a moved tag: a ReplicaSet's Pod is rewritten to the pin with a warning, a direct Pod is denied", async (t) => {
  const { deps } = harness(pinnedPolicy(), moved);
  const owned = await handleReview(
    "mutate",
    request(
      "Pod",
      pod(podSpec({ app: "busybox:1.36" }), { name: "web-1-x", ...owner("ReplicaSet") }),
    ),
    deps,
  );
  t.true(owned.response.allowed);
  t.like((decodePatch(owned.response.patch) as object[])[0], { value: `busybox:1.36@${D}` });
  t.deepEqual(owned.response.warnings, [
    "busybox:1.36 moved to sha256:eeeeeeeeeeee, admitted at pin sha256:dddddddddddd (controllerPods: use-pin)",
  ]);
  t.is(owned.response.auditAnnotations?.decisions, "containers[app]=mutate/drift");

  const direct = await handleReview(
    "mutate",
    request("Pod", pod(podSpec({ app: "busybox:1.36" }))),
    deps,
  );
  t.false(direct.response.allowed);
  t.regex(direct.response.status?.message ?? "", new RegExp(`pinned to ${D}.*now serves ${E}`));
});

test("a moved tag: a Deployment's new ReplicaSet is admitted (its Pods run at the pin), a new Deployment is denied", async (t) => {
  const { deps } = harness(pinnedPolicy(), moved);
  const replicaSet = await handleReview(
    "validate",
    request("ReplicaSet", workload("ReplicaSet", owner("Deployment"))),
    deps,
  );
  t.true(replicaSet.response.allowed);
  t.is(replicaSet.response.patch, undefined, "templates are not rewritten");
  t.is(replicaSet.judged[0]?.decision.drift?.current, E);

  const deployment = await handleReview(
    "validate",
    request("Deployment", workload("Deployment", {})),
    deps,
  );
  t.false(deployment.response.allowed);
  t.regex(deployment.response.status?.message ?? "", /the tag moved/);
});

test("validate-only (label on the Pod): a tag that serves its pin stays a tag in both passes", async (t) => {
  const { deps, lookups } = harness(pinnedPolicy(), served);
  const labelled = pod(podSpec({ app: "busybox:1.36" }), {
    name: "db-1",
    labels: { "digestpin.dev/validate-only": "true" },
  });
  const mutated = await handleReview("mutate", request("Pod", labelled), deps);
  t.true(mutated.response.allowed);
  t.is(mutated.response.patch, undefined);
  const validated = await handleReview("validate", request("Pod", labelled), deps);
  t.true(
    validated.response.allowed,
    "the validating pass asks the registry instead of requiring a digest",
  );
  t.is(lookups.length, 2);
});

test("validate-only still denies a moved tag, and still runs a controller's Pod at the pin", async (t) => {
  const { deps } = harness(pinnedPolicy("rewrite: none"), moved);
  const direct = await handleReview(
    "mutate",
    request("Pod", pod(podSpec({ app: "busybox:1.36" }))),
    deps,
  );
  t.false(direct.response.allowed);
  const owned = await handleReview(
    "mutate",
    request(
      "Pod",
      pod(podSpec({ app: "busybox:1.36" }), { name: "db-1", ...owner("StatefulSet") }),
    ),
    deps,
  );
  t.like((decodePatch(owned.response.patch) as object[])[0], { value: `busybox:1.36@${D}` });
});

test("validate-only by namespace label", async (t) => {
  const labels = { ...nameOnlyLabels("db"), "digestpin.dev/validate-only": "true" };
  const { deps } = harness(pinnedPolicy(), served, {
    namespaceLabels: () => Promise.resolve(labels),
  });
  const { response } = await handleReview(
    "mutate",
    request("Pod", pod(podSpec({ app: "busybox:1.36" })), { namespace: "db" }),
    deps,
  );
  t.true(response.allowed);
  t.is(response.patch, undefined);
});

test("one policy, two namespaces: warn in one, enforce in the other", async (t) => {
  const policy = pinnedPolicy(`mode: enforce
namespaces:
  - selector: {matchLabels: {rollout: trial}}
    mode: warn
`);
  const labelsOf: Record<string, Record<string, string>> = {
    a: { ...nameOnlyLabels("a"), rollout: "trial" },
    b: nameOnlyLabels("b"),
  };
  const { deps } = harness(policy, moved, {
    namespaceLabels: (namespace) => Promise.resolve(labelsOf[namespace] ?? {}),
  });
  const review = (namespace: string) =>
    handleReview(
      "mutate",
      request("Pod", pod(podSpec({ app: "busybox:1.36" })), { namespace }),
      deps,
    );
  const a = await review("a");
  t.true(a.response.allowed);
  t.is(a.response.patch, undefined, "mode warn admits unchanged");
  t.regex(a.response.warnings?.[0] ?? "", /^would deny busybox:1\.36: tag moved/);
  const b = await review("b");
  t.false(b.response.allowed);
});
