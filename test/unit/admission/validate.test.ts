import test from "ava";
import { handleReview } from "../../../src/admission/handler.ts";
import { findImages } from "../../../src/admission/images.ts";
import { D, E, decodePatch, harness, pinnedPolicy, pod, podSpec, request } from "./fixtures.ts";

const template = (containers: Record<string, string>) => ({
  metadata: { labels: { app: "x" } },
  spec: podSpec(containers),
});
const WORKLOADS: Record<string, (c: Record<string, string>) => object> = {
  Deployment: (c) => ({ spec: { template: template(c) } }),
  StatefulSet: (c) => ({ spec: { template: template(c) } }),
  DaemonSet: (c) => ({ spec: { template: template(c) } }),
  ReplicaSet: (c) => ({ spec: { template: template(c) } }),
  ReplicationController: (c) => ({ spec: { template: template(c) } }),
  Job: (c) => ({ spec: { template: template(c) } }),
  CronJob: (c) => ({ spec: { jobTemplate: { spec: { template: template(c) } } } }),
  PodTemplate: (c) => ({ template: template(c) }),
};

for (const [kind, make] of Object.entries(WORKLOADS)) {
  test(`${kind}: its template is validated as written, not mutated`, async (t) => {
    const { deps } = harness(pinnedPolicy(), { "docker.io/library/busybox:1.36": D });
    const good = await handleReview("validate", request(kind, make({ app: "busybox:1.36" })), deps);
    t.true(good.response.allowed, kind);
    t.is(good.response.patch, undefined);
    const mutate = await handleReview("mutate", request(kind, make({ app: "busybox:1.36" })), deps);
    t.deepEqual(mutate.response, { uid: "7b0f1f6c-uid", allowed: true });
    const drifted = harness(pinnedPolicy(), { "docker.io/library/busybox:1.36": E });
    const bad = await handleReview(
      "validate",
      request(kind, make({ app: "busybox:1.36", tool: "busybox:2" })),
      drifted.deps,
    );
    t.false(bad.response.allowed);
    t.deepEqual(
      bad.judged.map((j) => [j.slot.place, j.decision.reason]),
      [
        ["containers[app]", "drift"],
        ["containers[tool]", "unpinned"],
      ],
    );
    t.regex(findImages(kind, make({ a: "x" }))[0]?.pointer ?? "", /\/containers\/0\/image$/);
  });
}

test("with mutateTemplates, workload templates are rewritten like Pods", async (t) => {
  const { deps } = harness(
    pinnedPolicy(),
    { "docker.io/library/busybox:1.36": D },
    { mutateTemplates: true },
  );
  const { response } = await handleReview(
    "mutate",
    request("CronJob", WORKLOADS.CronJob!({ app: "busybox:1.36" })),
    deps,
  );
  t.deepEqual((decodePatch(response.patch) as object[])[0], {
    op: "replace",
    path: "/spec/jobTemplate/spec/template/spec/containers/0/image",
    value: `busybox:1.36@${D}`,
  });
  const validated = await handleReview(
    "validate",
    request("Deployment", WORKLOADS.Deployment!({ app: "busybox:1.36" })),
    deps,
  );
  t.false(validated.response.allowed, "after mutation a template must hold digests");
});

test("validating a Pod: digest-form pinned images pass with no registry, tags are refused", async (t) => {
  const { deps, lookups } = harness(pinnedPolicy(), {});
  const good = await handleReview(
    "validate",
    request("Pod", pod(podSpec({ app: `busybox:1.36@${D}` }))),
    deps,
  );
  t.true(good.response.allowed);
  const tag = await handleReview(
    "validate",
    request("Pod", pod(podSpec({ app: "busybox:1.36" }))),
    deps,
  );
  t.false(tag.response.allowed);
  t.regex(tag.response.status?.message ?? "", /not in digest form.*mutating webhook/);
  t.is(tag.judged[0]?.decision.reason, "not-digest-form");
  const other = await handleReview(
    "validate",
    request("Pod", pod(podSpec({ app: `busybox:1.36@${E}` }))),
    deps,
  );
  t.false(other.response.allowed);
  t.is(other.judged[0]?.decision.reason, "digest-mismatch");
  t.deepEqual(lookups, [], "validation of pods never asks a registry");
});

test("validating a Pod in warn mode admits a tag with a warning", async (t) => {
  const { deps } = harness(pinnedPolicy("mode: warn"), {});
  const { response } = await handleReview(
    "validate",
    request("Pod", pod(podSpec({ app: "busybox:1.36" }))),
    deps,
  );
  t.true(response.allowed);
  t.regex(response.warnings?.[0] ?? "", /not in digest form/);
});

test("a dry-run of a template asks the registry but records nothing", async (t) => {
  const { deps, recorded, lookups } = harness(pinnedPolicy("unpinned: trust-on-first-use"), {
    "docker.io/library/redis:7": E,
  });
  const { response } = await handleReview(
    "validate",
    request("Deployment", WORKLOADS.Deployment!({ db: "redis:7" }), { dryRun: true }),
    deps,
  );
  t.true(response.allowed);
  t.deepEqual(lookups, ["docker.io/library/redis:7"]);
  t.is(recorded.size, 0);
});

test("kinds without pods are not looked at", async (t) => {
  const { deps } = harness(pinnedPolicy(), {});
  const { response } = await handleReview(
    "validate",
    request("Service", { spec: { containers: [{ image: "x" }] } }),
    deps,
  );
  t.true(response.allowed);
});
