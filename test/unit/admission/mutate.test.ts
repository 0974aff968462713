import test from "ava";
import { handleReview } from "../../../src/admission/handler.ts";
import { RegistryError } from "../../../src/registry/errors.ts";
import { D, E, decodePatch, harness, pinnedPolicy, pod, podSpec, request } from "./fixtures.ts";

const registryNow = { "docker.io/library/busybox:1.36": D };

test("a pinned tag the registry still serves is rewritten to its digest, the original kept", async (t) => {
  const { deps, lookups } = harness(pinnedPolicy(), registryNow);
  const { response } = await handleReview(
    "mutate",
    request("Pod", pod(podSpec({ app: "busybox:1.36" }))),
    deps,
  );
  t.true(response.allowed);
  t.is(response.uid, "7b0f1f6c-uid");
  t.is(response.patchType, "JSONPatch");
  t.deepEqual(decodePatch(response.patch), [
    { op: "replace", path: "/spec/containers/0/image", value: `busybox:1.36@${D}` },
    {
      op: "add",
      path: "/metadata/annotations",
      value: { "digestpin.dev/original-images": '{"containers[app]":"busybox:1.36"}' },
    },
  ]);
  t.deepEqual(lookups, ["docker.io/library/busybox:1.36"]);
  t.is(response.auditAnnotations?.decisions, "containers[app]=mutate/pinned");
});

test("rewrite: digest drops the tag", async (t) => {
  const { deps } = harness(pinnedPolicy("rewrite: digest"), registryNow);
  const { response } = await handleReview(
    "mutate",
    request("Pod", pod(podSpec({ app: "busybox:1.36" }))),
    deps,
  );
  t.like((decodePatch(response.patch) as object[])[0], { value: `busybox@${D}` });
});

test("a drifted tag is denied: both digests, who pinned, how to approve", async (t) => {
  const { deps } = harness(pinnedPolicy(), { "docker.io/library/busybox:1.36": E });
  const { response } = await handleReview(
    "mutate",
    request("Pod", pod(podSpec({ app: "busybox:1.36" }))),
    deps,
  );
  t.false(response.allowed);
  t.is(response.status?.code, 403);
  const message = response.status?.message ?? "";
  t.true(message.startsWith("containers[app]: "));
  for (const part of [
    D,
    E,
    "alice@example.com",
    "2026-11-26T10:00:00Z",
    "digestpin approve docker.io/library/busybox:1.36",
  ]) {
    t.true(message.includes(part), part);
  }
  t.is(response.patch, undefined);
});

test("every container list and image volumes are judged; one message line per denied image", async (t) => {
  const spec = {
    initContainers: [{ name: "init", image: "busybox:1.36" }],
    containers: [
      { name: "app", image: "ghcr.io/acme/app:v1" },
      { name: "side", image: "busybox:1.37" },
    ],
    ephemeralContainers: [{ name: "debug", image: "busybox:9" }],
    volumes: [
      { name: "data", image: { reference: "ghcr.io/acme/app:v1" } },
      { name: "empty", emptyDir: {} },
    ],
  };
  const { deps, lookups } = harness(pinnedPolicy(), {
    ...registryNow,
    "ghcr.io/acme/app:v1": `sha256:${"2".repeat(64)}`,
  });
  const { response, judged } = await handleReview("mutate", request("Pod", pod(spec)), deps);
  t.deepEqual(
    judged.map((j) => [j.slot.place, j.decision.action, j.decision.reason]),
    [
      ["initContainers[init]", "mutate", "pinned"],
      ["containers[app]", "mutate", "pinned"],
      ["containers[side]", "deny", "unpinned"],
      ["ephemeralContainers[debug]", "deny", "unpinned"],
      ["volumes[data]", "mutate", "pinned"],
    ],
  );
  t.deepEqual(
    lookups.sort(),
    ["docker.io/library/busybox:1.36", "ghcr.io/acme/app:v1"],
    "one lookup per distinct tag",
  );
  const lines = response.status?.message.split("\n") ?? [];
  t.is(lines.length, 2);
  t.regex(lines[0] ?? "", /^containers\[side\]: .*busybox:1\.37/);
  t.regex(lines[1] ?? "", /^ephemeralContainers\[debug\]: /);
});

test("an annotation map that exists is extended, with JSON-pointer escaping", async (t) => {
  const { deps } = harness(pinnedPolicy(), registryNow);
  const object = pod(podSpec({ app: "busybox:1.36" }), { name: "p", annotations: { team: "a" } });
  const { response } = await handleReview("mutate", request("Pod", object), deps);
  t.like((decodePatch(response.patch) as object[])[1], {
    op: "add",
    path: "/metadata/annotations/digestpin.dev~1original-images",
  });
});

test("mode warn admits a drifted image unchanged with a warning; audit records it", async (t) => {
  const drifted = { "docker.io/library/busybox:1.36": E };
  const warn = await handleReview(
    "mutate",
    request("Pod", pod(podSpec({ app: "busybox:1.36" }))),
    harness(pinnedPolicy("mode: warn"), drifted).deps,
  );
  t.true(warn.response.allowed);
  t.is(warn.response.patch, undefined);
  t.is(warn.response.warnings?.length, 1);
  t.true((warn.response.warnings?.[0] ?? "").length <= 120);
  t.regex(warn.response.auditAnnotations?.["would-deny"] ?? "", /containers\[app\]/);
  const audit = await handleReview(
    "mutate",
    request("Pod", pod(podSpec({ app: "busybox:1.36" }))),
    harness(pinnedPolicy("mode: audit"), drifted).deps,
  );
  t.true(audit.response.allowed);
  t.is(audit.response.warnings, undefined);
  t.regex(audit.response.auditAnnotations?.["would-deny"] ?? "", new RegExp(E));
});

test("an unavailable registry: use-pin admits at the pin with a warning, deny denies", async (t) => {
  const down = {
    "docker.io/library/busybox:1.36": new RegistryError(
      "ERR_REGISTRY_TIMEOUT",
      "docker.io",
      "timeout",
    ),
  };
  const usePin = await handleReview(
    "mutate",
    request("Pod", pod(podSpec({ app: "busybox:1.36" }))),
    harness(pinnedPolicy(), down).deps,
  );
  t.true(usePin.response.allowed);
  t.like((decodePatch(usePin.response.patch) as object[])[0], { value: `busybox:1.36@${D}` });
  t.is(usePin.response.warnings?.length, 1);
  const strict = await handleReview(
    "mutate",
    request("Pod", pod(podSpec({ app: "busybox:1.36" }))),
    harness(pinnedPolicy("registryUnavailable: deny"), down).deps,
  );
  t.false(strict.response.allowed);
});

test("trust-on-first-use records the first digest, not on dry-run, and a lost race is denied", async (t) => {
  const policy = pinnedPolicy("unpinned: trust-on-first-use");
  const registry = { "docker.io/library/redis:7": E };
  const dry = harness(policy, registry);
  const dryRun = await handleReview(
    "mutate",
    request("Pod", pod(podSpec({ db: "redis:7" })), { dryRun: true }),
    dry.deps,
  );
  t.true(dryRun.response.allowed);
  t.is(dry.recorded.size, 0, "a dry-run records nothing");
  const real = harness(policy, registry);
  const created = await handleReview(
    "mutate",
    request("Pod", pod(podSpec({ db: "redis:7" }))),
    real.deps,
  );
  t.like((decodePatch(created.response.patch) as object[])[0], { value: `redis:7@${E}` });
  t.is(real.recorded.get("docker.io/library/redis:7")?.digest, E);
  const raced = harness(policy, registry, { recordPin: () => Promise.resolve(D) });
  const lost = await handleReview(
    "mutate",
    request("Pod", pod(podSpec({ db: "redis:7" }))),
    raced.deps,
  );
  t.false(lost.response.allowed);
  t.regex(lost.response.status?.message ?? "", /was just pinned to/);
  const failing = harness(policy, registry, {
    recordPin: () => Promise.reject(new Error("conflict storm")),
  });
  const unrecorded = await handleReview(
    "mutate",
    request("Pod", pod(podSpec({ db: "redis:7" }))),
    failing.deps,
  );
  t.false(unrecorded.response.allowed);
  t.regex(
    unrecorded.response.status?.message ?? "",
    /could not record .*\(conflict storm\); retry\.$/,
  );
  const full = harness(policy, registry, {
    recordPin: () =>
      Promise.reject(Object.assign(new Error("the ConfigMap is full"), { retriable: false })),
  });
  const refused = await handleReview(
    "mutate",
    request("Pod", pod(podSpec({ db: "redis:7" }))),
    full.deps,
  );
  t.false(refused.response.allowed);
  t.regex(refused.response.status?.message ?? "", /\(the ConfigMap is full\)\.$/);
});

test("digest-form images already pinned need no registry and no patch", async (t) => {
  const { deps, lookups } = harness(pinnedPolicy(), {});
  const { response } = await handleReview(
    "mutate",
    request("Pod", pod(podSpec({ app: `busybox:1.36@${D}` }))),
    deps,
  );
  t.true(response.allowed);
  t.is(response.patch, undefined);
  t.deepEqual(lookups, []);
});

test("an UPDATE judges only the images that changed", async (t) => {
  const { deps, lookups } = harness(pinnedPolicy(), registryNow);
  const old = pod(podSpec({ app: "busybox:1.37", side: "busybox:1.36" }));
  const scaled = await handleReview(
    "mutate",
    request("Pod", pod(podSpec({ app: "busybox:1.37", side: "busybox:1.36" })), {
      operation: "UPDATE",
      oldObject: old,
    }),
    deps,
  );
  t.true(scaled.response.allowed, "an unpinned image already running does not block an update");
  t.deepEqual(lookups, []);
  const changed = await handleReview(
    "mutate",
    request("Pod", pod(podSpec({ app: "busybox:1.37", side: "busybox:9" })), {
      operation: "UPDATE",
      oldObject: old,
    }),
    deps,
  );
  t.false(changed.response.allowed);
  t.deepEqual(
    changed.judged.map((j) => j.slot.place),
    ["containers[side]"],
  );
});

test("DELETE and CONNECT are allowed without looking", async (t) => {
  const { deps } = harness(pinnedPolicy(), {});
  for (const operation of ["DELETE", "CONNECT"] as const) {
    const { response } = await handleReview(
      "mutate",
      request("Pod", pod(podSpec({ app: "nope:1" })), { operation }),
      deps,
    );
    t.deepEqual(response, { uid: "7b0f1f6c-uid", allowed: true });
  }
});

test("an ephemeral container added through the subresource is judged", async (t) => {
  const { deps } = harness(pinnedPolicy(), registryNow);
  const old = pod(podSpec({ app: `busybox:1.36@${D}` }));
  const next = pod({
    ...podSpec({ app: `busybox:1.36@${D}` }),
    ephemeralContainers: [{ name: "debugger", image: "busybox:1.36" }],
  });
  const { response } = await handleReview(
    "mutate",
    request("Pod", next, {
      operation: "UPDATE",
      oldObject: old,
      subResource: "ephemeralcontainers",
    }),
    deps,
  );
  t.like((decodePatch(response.patch) as object[])[0], {
    path: "/spec/ephemeralContainers/0/image",
    value: `busybox:1.36@${D}`,
  });
});

test("without a policy loaded, reviews are denied (the webhook never runs without one)", async (t) => {
  const { deps } = harness(undefined, registryNow);
  const { response } = await handleReview(
    "mutate",
    request("Pod", pod(podSpec({ app: "busybox:1.36" }))),
    deps,
  );
  t.false(response.allowed);
  t.regex(response.status?.message ?? "", /no valid policy/);
});

test("exempt namespaces are admitted unchanged", async (t) => {
  const { deps, lookups } = harness(
    pinnedPolicy("exempt:\n  namespaces: [kube-system]"),
    registryNow,
  );
  const { response } = await handleReview(
    "mutate",
    request("Pod", pod(podSpec({ app: "anything:1" })), { namespace: "kube-system" }),
    deps,
  );
  t.true(response.allowed);
  t.is(response.patch, undefined);
  t.deepEqual(lookups, []);
});
