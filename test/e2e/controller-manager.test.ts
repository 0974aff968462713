import test from "ava";
import type { V1Pod } from "@kubernetes/client-node";
import { workloadManifest, yamlDocuments } from "../harness/e2e-objects.ts";
import { sharedE2e, type E2e } from "../harness/e2e-suite.ts";
import type { Shell } from "../harness/e2e-shell.ts";
import { waitFor } from "../harness/wait.ts";

// Scenario 9: a moved tag stops new content, never self-healing. A Deployment runs at its pin;
// the tag is re-pushed upstream. Everything the controllers create from then on (Pods to scale
// up, to replace a deleted Pod, the new ReplicaSet and Pods of `kubectl rollout restart`) is
// admitted at the pinned digest, with a warning and a TagDrift Event on its owner; what a person
// asks for directly (`kubectl run`, a new Deployment, also as a server-side dry-run) is denied
// naming both digests.
const e2e = sharedE2e(test, { name: "controller-manager", controllerManager: true });

async function livePods(env: E2e, namespace: string): Promise<V1Pod[]> {
  const pods = await env.core.listNamespacedPod({ namespace, labelSelector: "app=web" });
  return pods.items.filter((pod) => pod.metadata?.deletionTimestamp === undefined);
}

const imageOf = (pod: V1Pod) => pod.spec?.containers[0]?.image ?? "";

/** Waits until the Deployment's live Pods are `count`, and returns their images. */
async function podsNow(env: E2e, namespace: string, count: number): Promise<string[]> {
  const pods = await waitFor(
    `${String(count)} Pods`,
    async () => {
      const now = await livePods(env, namespace);
      return now.length === count ? now : undefined;
    },
    30_000,
  );
  return pods.map(imageOf);
}

async function run(sh: Shell, args: string[]): Promise<string> {
  const result = await sh.kubectl(args);
  if (result.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.output}`);
  return result.output;
}

test.serial(
  "after the tag moved, scaling, replacing a Pod and a rollout restart run at the pin; direct creations are denied",
  async (t) => {
    const env = e2e();
    const ref = env.registry.ref("shop/web:1.4");
    const pinned = await env.crane.pushRandomImage(ref);
    await env.setPolicy(env.policy({ pins: { [ref]: pinned.digest } }));
    const namespace = await env.namespace(t, "shop");
    const sh = await env.shell(t);
    const atPin = `${ref}@${pinned.digest}`;
    await sh.write(
      "web.yaml",
      yamlDocuments(workloadManifest("Deployment", "web", { web: ref }, { replicas: 2 })),
    );
    t.is(
      await run(sh, ["apply", "-n", namespace, "-f", "web.yaml"]),
      "deployment.apps/web created\n",
    );
    t.deepEqual(await podsNow(env, namespace, 2), [atPin, atPin]);

    // Upstream re-pushes the tag.
    const moved = await env.crane.repush(ref);
    const admittedBefore = await env.webhook.metric("digestpin_drift_total", {
      action: "admitted-at-pin",
    });

    // Scale up: the ReplicaSet's new Pod runs at the pin.
    t.is(
      await run(sh, ["scale", "deployment", "web", "-n", namespace, "--replicas=3"]),
      "deployment.apps/web scaled\n",
    );
    t.deepEqual(await podsNow(env, namespace, 3), [atPin, atPin, atPin]);

    // A Pod goes away: its replacement runs at the pin.
    const [victim] = await livePods(env, namespace);
    await run(sh, ["delete", "pod", victim?.metadata?.name ?? "", "-n", namespace, "--wait=false"]);
    await waitFor(
      "the replacement Pod",
      async () => {
        const now = await livePods(env, namespace);
        return now.length === 3 && !now.some((pod) => pod.metadata?.uid === victim?.metadata?.uid)
          ? true
          : undefined;
      },
      30_000,
    );
    t.deepEqual((await livePods(env, namespace)).map(imageOf), [atPin, atPin, atPin]);

    // A rollout restart: a new ReplicaSet (admitted, it was created by the Deployment) whose
    // Pods run at the pin.
    await run(sh, ["rollout", "restart", "deployment/web", "-n", namespace]);
    const restarted = await waitFor(
      "Pods of the restarted ReplicaSet",
      async () => {
        const now = await livePods(env, namespace);
        const fresh = now.filter(
          (pod) => pod.metadata?.annotations?.["kubectl.kubernetes.io/restartedAt"] !== undefined,
        );
        return fresh.length > 0 ? fresh : undefined;
      },
      30_000,
    );
    t.true(
      restarted.every((pod) => imageOf(pod) === atPin),
      restarted.map(imageOf).join(", "),
    );
    const replicaSets = await run(sh, [
      "get",
      "replicasets",
      "-n",
      namespace,
      "-o",
      "jsonpath={range .items[*]}{.spec.template.spec.containers[0].image}{'\\n'}{end}",
    ]);
    t.deepEqual(replicaSets.trim().split("\n"), [ref, ref], "templates keep the tag");
    t.true(
      (await env.webhook.metric("digestpin_drift_total", { action: "admitted-at-pin" })) >
        admittedBefore,
    );

    // The owner is told: a TagDrift Event on the ReplicaSet, naming the tag and both digests.
    const event = await waitFor("a TagDrift Event on a ReplicaSet", async () => {
      const listed = await sh.kubectl([
        "get",
        "events",
        "-n",
        namespace,
        "--field-selector",
        "reason=TagDrift,involvedObject.kind=ReplicaSet",
        "-o",
        "jsonpath={.items[0].message}",
      ]);
      return listed.output === "" ? undefined : listed.output;
    });
    t.true(
      event.startsWith(
        `${ref} moved: pinned to ${pinned.digest}, the registry now serves ${moved.digest}. Pod `,
      ),
      event,
    );
    t.regex(event, /containers\[web\] was admitted at the pinned digest\. /);
    t.true(event.endsWith(`digestpin approve ${ref} --digest ${moved.digest} --reason "…".`));

    // What a person creates directly is denied, naming both digests.
    const deniedBefore = await env.webhook.metric("digestpin_drift_total", { action: "denied" });
    const direct = await sh.kubectl(["run", "web-direct", "-n", namespace, `--image=${ref}`]);
    t.is(direct.exitCode, 1);
    t.regex(direct.output, /admission webhook "mutate\.digestpin\.dev" denied the request/);
    t.true(direct.output.includes(`is pinned to ${pinned.digest}`), direct.output);
    t.true(direct.output.includes(`the registry now serves ${moved.digest}`), direct.output);

    await sh.write(
      "api.yaml",
      yamlDocuments(workloadManifest("Deployment", "api", { api: ref }, { replicas: 1 })),
    );
    for (const dryRun of [["--dry-run=server"], []]) {
      const created = await sh.kubectl(["apply", ...dryRun, "-n", namespace, "-f", "api.yaml"]);
      t.is(created.exitCode, 1, created.output);
      t.regex(created.output, /admission webhook "validate\.digestpin\.dev" denied the request/);
      t.true(created.output.includes(pinned.digest) && created.output.includes(moved.digest));
    }
    t.true(
      (await env.webhook.metric("digestpin_drift_total", { action: "denied" })) >= deniedBefore + 2,
    );

    // Scaling down needs no new Pod.
    await run(sh, ["scale", "deployment", "web", "-n", namespace, "--replicas=1"]);
    await waitFor(
      "the Deployment to scale down",
      async () => ((await livePods(env, namespace)).length <= 2 ? true : undefined),
      30_000,
    );
  },
);

test.serial(
  "with the webhook stopped, nothing but new images waits on it (fail closed)",
  async (t) => {
    const env = e2e();
    const ref = env.registry.ref("shop/db:2.0");
    const pinned = await env.crane.pushRandomImage(ref);
    await env.setPolicy(env.policy({ pins: { [ref]: pinned.digest } }));
    const namespace = await env.namespace(t, "stopped");
    const sh = await env.shell(t);
    await sh.write(
      "db.yaml",
      yamlDocuments(workloadManifest("Deployment", "db", { db: ref }, { replicas: 1 })),
    );
    await run(sh, ["apply", "-n", namespace, "-f", "db.yaml"]);
    await run(sh, ["run", "solo", "-n", namespace, `--image=${ref}`]);

    await env.webhook.stop();
    t.teardown(() => env.webhook.start());
    const pod = ["pod", "solo", "-n", namespace];
    await run(sh, ["label", ...pod, "tier=db"]);
    await run(sh, ["annotate", ...pod, "note=kept"]);
    await run(sh, [
      "patch",
      ...pod,
      "--type=merge",
      "-p",
      '{"metadata":{"finalizers":["example.com/hold"]}}',
    ]);
    await run(sh, ["patch", ...pod, "--type=merge", "-p", '{"metadata":{"finalizers":null}}']);
    await run(sh, ["annotate", "deployment", "db", "-n", namespace, "note=kept"]);
    await run(sh, ["scale", "deployment", "db", "-n", namespace, "--replicas=2"]);
    const stored = await run(sh, [
      "get",
      ...pod,
      "-o",
      "jsonpath={.metadata.labels.tier}/{.metadata.annotations.note}",
    ]);
    t.is(stored, "db/kept");

    const refused = await sh.kubectl(["run", "another", "-n", namespace, `--image=${ref}`]);
    t.is(refused.exitCode, 1);
    t.regex(refused.output, /failed calling webhook "mutate\.digestpin\.dev"/);
  },
);

test.serial("one policy, namespace A in warn and B in enforce: the same moved tag", async (t) => {
  const env = e2e();
  const ref = env.registry.ref("shop/cache:3.1");
  const pinned = await env.crane.pushRandomImage(ref);
  const a = await env.namespace(t, "trial-a");
  const b = await env.namespace(t, "strict-b");
  await env.cluster.kubectl(["label", "namespace", a, "digestpin.example/rollout=trial"]);
  await env.setPolicy(
    env.policy({
      mode: "enforce",
      namespaces: [
        { selector: { matchLabels: { "digestpin.example/rollout": "trial" } }, mode: "warn" },
      ],
      pins: { [ref]: pinned.digest },
    }),
  );
  const moved = await env.crane.repush(ref);
  const sh = await env.shell(t);
  const inA = await sh.kubectl(["run", "cache", "-n", a, `--image=${ref}`]);
  t.is(inA.exitCode, 0, inA.output);
  t.regex(inA.output, /Warning: would deny .*shop\/cache:3\.1: tag moved/);
  const inB = await sh.kubectl(["run", "cache", "-n", b, `--image=${ref}`]);
  t.is(inB.exitCode, 1);
  t.true(inB.output.includes(moved.digest), inB.output);
});
