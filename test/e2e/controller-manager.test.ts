import test from "ava";
import type { CoreV1Event } from "@kubernetes/client-node";
import { workloadManifest, yamlDocuments } from "../harness/e2e-objects.ts";
import { sharedE2e, type E2e } from "../harness/e2e-suite.ts";
import { waitFor } from "../harness/wait.ts";

// Scenario 9: Pods made by kube-controller-manager (Deployment → ReplicaSet → Pods) go through
// digestpin like any other: they come out pinned; after the tag drifts, scaling up fails with
// FailedCreate Events carrying digestpin's message, and scaling down still works.
const e2e = sharedE2e(test, { name: "controller-manager", controllerManager: true });

async function podImages(env: E2e, namespace: string): Promise<string[]> {
  const pods = await env.core.listNamespacedPod({ namespace, labelSelector: "app=web" });
  return pods.items
    .filter((pod) => pod.metadata?.deletionTimestamp === undefined)
    .map((pod) => pod.spec?.containers[0]?.image ?? "");
}

async function replicaSetEvents(env: E2e, namespace: string): Promise<CoreV1Event[]> {
  const events = await env.core.listNamespacedEvent({
    namespace,
    fieldSelector: "reason=FailedCreate",
  });
  return events.items.filter((e) => e.involvedObject.kind === "ReplicaSet");
}

test.serial(
  "a Deployment's Pods come out pinned; after drift scaling up fails with digestpin's message, scaling down works",
  async (t) => {
    const env = e2e();
    const ref = env.registry.ref("shop/web:1.4");
    const pinned = await env.crane.pushRandomImage(ref);
    await env.setPolicy(env.policy({ pins: { [ref]: pinned.digest } }));
    const namespace = await env.namespace(t, "shop");
    const sh = await env.shell(t);
    await sh.write(
      "web.yaml",
      yamlDocuments(workloadManifest("Deployment", "web", { web: ref }, { replicas: 2 })),
    );

    const applied = await sh.kubectl(["apply", "-n", namespace, "-f", "web.yaml"]);
    t.deepEqual([applied.exitCode, applied.output], [0, "deployment.apps/web created\n"]);
    const images = await waitFor(
      "two Pods",
      async () => {
        const now = await podImages(env, namespace);
        return now.length === 2 ? now : undefined;
      },
      30_000,
    );
    t.deepEqual(images, [`${ref}@${pinned.digest}`, `${ref}@${pinned.digest}`]);
    // The Deployment's template keeps the tag; only the Pods carry the digest.
    const deployment = await sh.kubectl([
      "get",
      "deployment",
      "web",
      "-n",
      namespace,
      "-o",
      "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    t.is(deployment.output, ref);

    // The tag drifts; the ReplicaSet cannot create more Pods.
    const moved = await env.crane.repush(ref);
    const scaledUp = await sh.kubectl([
      "scale",
      "deployment",
      "web",
      "-n",
      namespace,
      "--replicas=4",
    ]);
    t.deepEqual([scaledUp.exitCode, scaledUp.output], [0, "deployment.apps/web scaled\n"]);
    const failed = await waitFor(
      "FailedCreate Events",
      async () => {
        const events = await replicaSetEvents(env, namespace);
        return events.length > 0 ? events : undefined;
      },
      30_000,
    );
    const message = failed[0]?.message ?? "";
    t.true(
      message.startsWith(
        `Error creating: admission webhook "mutate.digestpin.dev" denied the request: containers[web]: image "${ref}": the tag moved. ${ref} is pinned to ${pinned.digest}`,
      ),
      message,
    );
    t.true(message.includes(`but the registry now serves ${moved.digest}`), message);
    t.is(failed[0]?.type, "Warning");
    t.deepEqual(await podImages(env, namespace), [
      `${ref}@${pinned.digest}`,
      `${ref}@${pinned.digest}`,
    ]);

    // Scaling down needs no new Pod and goes through.
    const scaledDown = await sh.kubectl([
      "scale",
      "deployment",
      "web",
      "-n",
      namespace,
      "--replicas=1",
    ]);
    t.deepEqual([scaledDown.exitCode, scaledDown.output], [0, "deployment.apps/web scaled\n"]);
    await waitFor(
      "one Pod",
      async () => ((await podImages(env, namespace)).length === 1 ? true : undefined),
      30_000,
    );
    t.deepEqual(await podImages(env, namespace), [`${ref}@${pinned.digest}`]);
    const replicas = () =>
      sh.kubectl([
        "get",
        "deployment",
        "web",
        "-n",
        namespace,
        "-o",
        "jsonpath={.spec.replicas}/{.status.replicas}",
      ]);
    await waitFor("the Deployment's status", async () =>
      (await replicas()).output === "1/1" ? true : undefined,
    );
  },
);
