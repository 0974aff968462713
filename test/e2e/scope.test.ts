import { ApiException } from "@kubernetes/client-node";
import test from "ava";
import { podManifest, tryCreate, workloadManifest } from "../harness/e2e-objects.ts";
import { sharedE2e, SYSTEM_NAMESPACE, type E2e } from "../harness/e2e-suite.ts";

// Scenario 5: what digestpin is sent, and what happens while it does not answer. The chart's
// namespaceSelector never sends kube-system nor digestpin's own namespace; the policy's exempt
// namespaces are sent and admitted unchanged. With the process stopped the pod webhooks fail
// closed (failurePolicy: Fail), except where the configurations never send anything.
const e2e = sharedE2e(test, { name: "scope" });

/** An image no pin knows, on the testbed registry (where it exists). */
let unpinned: Promise<string> | undefined;
function unpinnedImage(env: E2e): Promise<string> {
  unpinned ??= (async () => {
    const ref = env.registry.ref("team/unreviewed:1.0");
    await env.crane.pushRandomImage(ref);
    return ref;
  })();
  return unpinned;
}

/** kube-system exists in every cluster; without kube-controller-manager it has no ServiceAccount. */
async function kubeSystem(env: E2e): Promise<string> {
  try {
    await env.objects.create({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "default", namespace: "kube-system" },
    });
  } catch (error) {
    if (!(error instanceof ApiException && error.code === 409)) throw error;
  }
  return "kube-system";
}

const reviews = (env: E2e) => env.webhook.metric("digestpin_admission_reviews_total");

test.serial(
  "digestpin's namespace and kube-system are never sent; a policy-exempt namespace is sent and admitted unchanged",
  async (t) => {
    const env = e2e();
    const image = await unpinnedImage(env);
    const legacy = await env.namespace(t, "legacy");
    await env.setPolicy(env.policy({ exempt: { namespaces: [legacy] } }));
    const shop = await env.namespace(t, "shop");

    const denied = await tryCreate(
      env.objects,
      podManifest("app", shop, { containers: { app: image } }),
    );
    t.false(denied.allowed);
    if (!denied.allowed)
      t.regex(denied.message, /mutate\.digestpin\.dev" denied the request: .* is not pinned/);

    for (const namespace of [SYSTEM_NAMESPACE, await kubeSystem(env)]) {
      const before = await reviews(env);
      const created = await tryCreate(
        env.objects,
        podManifest("app", namespace, { containers: { app: image } }),
      );
      t.true(created.allowed, `${namespace}: ${created.allowed ? "" : created.message}`);
      if (created.allowed) t.is(created.object.spec.containers[0].image, image);
      t.is(await reviews(env), before, `${namespace} was sent to digestpin`);
      await env.objects.delete(podManifest("app", namespace, { containers: {} }));
    }

    const before = await reviews(env);
    const exempt = await tryCreate(
      env.objects,
      podManifest("app", legacy, { containers: { app: image } }),
    );
    t.true(exempt.allowed, exempt.allowed ? "" : exempt.message);
    if (exempt.allowed) t.is(exempt.object.spec.containers[0].image, image);
    t.true(
      (await reviews(env)) > before,
      "the exempt namespace is reviewed (and admitted unchanged)",
    );
  },
);

test.serial(
  "with digestpin stopped, Pods and workloads in enforced namespaces are denied (fail closed); unsent namespaces still work",
  async (t) => {
    const env = e2e();
    const image = await unpinnedImage(env);
    const pinnedRef = env.registry.ref("team/reviewed:1.0");
    const pinned = await env.crane.pushRandomImage(pinnedRef);
    const legacy = await env.namespace(t, "legacy-down");
    await env.setPolicy(
      env.policy({ exempt: { namespaces: [legacy] }, pins: { [pinnedRef]: pinned.digest } }),
    );
    const shop = await env.namespace(t, "shop-down");
    const sh = await env.shell(t);
    t.true(
      (
        await tryCreate(
          env.objects,
          podManifest("before", shop, { containers: { app: pinnedRef } }),
        )
      ).allowed,
    );

    await env.webhook.stop();
    try {
      const url = new URL(env.webhook.url);
      const refused = (path: string) =>
        `failed to call webhook: Post "${url.origin}${path}?timeout=10s": dial tcp ${url.host}: connect: connection refused`;
      // Even a pinned image: nobody can check it.
      for (const namespace of [shop, legacy]) {
        const pod = await tryCreate(
          env.objects,
          podManifest("app", namespace, { containers: { app: pinnedRef } }),
        );
        t.false(pod.allowed, namespace);
        if (!pod.allowed) {
          t.is(pod.code, 500);
          t.is(
            pod.message,
            `Internal error occurred: failed calling webhook "mutate.digestpin.dev": ${refused("/mutate")}`,
          );
        }
      }
      const deployment = workloadManifest(
        "Deployment",
        "web",
        { web: pinnedRef },
        { namespace: shop },
      );
      const workload = await tryCreate(env.objects, deployment);
      t.false(workload.allowed);
      if (!workload.allowed)
        t.is(
          workload.message,
          `Internal error occurred: failed calling webhook "validate.digestpin.dev": ${refused("/validate")}`,
        );

      for (const namespace of [SYSTEM_NAMESPACE, await kubeSystem(env)]) {
        const created = await tryCreate(
          env.objects,
          podManifest("while-down", namespace, { containers: { app: image } }),
        );
        t.true(created.allowed, `${namespace}: ${created.allowed ? "" : created.message}`);
        await env.objects.delete(podManifest("while-down", namespace, { containers: {} }));
      }
      // Pods admitted before are untouched; deleting one needs no webhook.
      const deleted = await sh.kubectl(["delete", "pod", "before", "-n", shop, "--wait=false"]);
      t.deepEqual(
        [deleted.exitCode, deleted.output],
        [0, `pod "before" deleted from ${shop} namespace\n`],
      );
    } finally {
      await env.webhook.start();
    }
    const after = await tryCreate(
      env.objects,
      podManifest("after", shop, { containers: { app: pinnedRef } }),
    );
    t.true(after.allowed, after.allowed ? "" : after.message);
    if (after.allowed) t.is(after.object.spec.containers[0].image, `${pinnedRef}@${pinned.digest}`);
  },
);
