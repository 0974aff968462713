import test from "ava";
import { parse } from "yaml";
import { podManifest, tryCreate } from "../harness/e2e-objects.ts";
import { PIN_STORE_SHARD, sharedE2e, SYSTEM_NAMESPACE } from "../harness/e2e-suite.ts";

// Scenario 8: trust on first use under concurrency. Twenty Pods of a tag nobody pinned, created
// at once: every one is admitted at the same digest, and exactly one pin is recorded.
const e2e = sharedE2e(test, { name: "trust-on-first-use" });

const PODS = 20;

test.serial(
  `${PODS} Pods of a new image at once: one pin recorded, every Pod at its digest`,
  async (t) => {
    const env = e2e();
    await env.setPolicy(env.policy({ unpinned: "trust-on-first-use" }));
    const namespace = await env.namespace(t, "burst");
    const ref = env.registry.ref("team/new:1.0");
    const pushed = await env.crane.pushRandomImage(ref);

    const started = performance.now();
    const created = await Promise.all(
      Array.from({ length: PODS }, (_, i) =>
        tryCreate(env.objects, podManifest(`burst-${i}`, namespace, { containers: { app: ref } })),
      ),
    );
    t.log(`${PODS} Pods created at once in ${Math.round(performance.now() - started)} ms`);
    const denied = created.flatMap((c) => (c.allowed ? [] : [c.message]));
    t.deepEqual(denied, []);
    const pods = await env.core.listNamespacedPod({ namespace });
    t.is(pods.items.length, PODS);
    t.deepEqual(
      [...new Set(pods.items.map((pod) => pod.spec?.containers[0]?.image))],
      [`${ref}@${pushed.digest}`],
    );

    const autoPins = await env.core.readNamespacedConfigMap({
      name: PIN_STORE_SHARD,
      namespace: SYSTEM_NAMESPACE,
    });
    t.is(autoPins.metadata?.labels?.["digestpin.dev/pins"], "true");
    t.is(autoPins.metadata?.labels?.["digestpin.dev/store"], "true");
    const document = parse(autoPins.data?.["pins.yaml"] ?? "") as {
      kind: string;
      pins: Record<string, { digest: string; pinnedBy: string }>;
    };
    t.is(document.kind, "Pins");
    t.deepEqual(Object.keys(document.pins), [ref]);
    t.like(document.pins[ref], {
      digest: pushed.digest,
      pinnedBy: "digestpin (trust-on-first-use)",
    });
    // Its writes, as validate-policy.digestpin.dev saw them: one per batch, not one per Pod.
    const writes = (await env.webhook.logLines()).filter(
      (line) =>
        line.msg === "admission review" &&
        line.kind === "ConfigMap" &&
        line.name === PIN_STORE_SHARD,
    );
    t.log(`digestpin-pins-000 written ${writes.length} time(s) for ${PODS} Pods`);
    t.true(writes.length >= 1 && writes.length < PODS, `${writes.length} writes`);

    // The recorded pin is in force: after the tag moves, a new Pod is denied as drift.
    await env.crane.repush(ref);
    const drifted = await tryCreate(
      env.objects,
      podManifest("after-move", namespace, { containers: { app: ref } }),
    );
    t.false(drifted.allowed);
    if (!drifted.allowed)
      t.true(
        drifted.message.includes(`the tag moved. ${ref} is pinned to ${pushed.digest}`),
        drifted.message,
      );
  },
);
