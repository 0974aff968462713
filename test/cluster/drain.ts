/**
 * A drain of the node that runs digestpin (the only node here): the PodDisruptionBudget lets one
 * replica go and keeps the other, which answers every review meanwhile; the evicted replica's
 * replacement waits for the node to be schedulable again.
 */
import type { ExecutionContext } from "ava";
import { startAdmissionStream } from "./admission-stream.ts";
import { RELEASE, SYSTEM_NAMESPACE, type Cluster } from "./cluster-suite.ts";
import { waitForRollout } from "./deploy.ts";
import { runningPods } from "./pods.ts";
import { waitFor } from "../harness/wait.ts";

export async function drainScenario(t: ExecutionContext, env: Cluster): Promise<void> {
  const { core, shell, streamImage, cluster, node } = env;
  const namespace = "stream-drain";
  t.is((await shell.kubectl(["create", "namespace", namespace])).exitCode, 0);
  const selector = `app.kubernetes.io/instance=${RELEASE}`;
  // Replicas an earlier rollout replaced may still be terminating: drain the two that serve.
  await waitFor(
    "exactly the 2 serving replicas",
    async () => {
      const { items } = await core.listNamespacedPod({
        namespace: SYSTEM_NAMESPACE,
        labelSelector: selector,
      });
      const running = await runningPods(core, SYSTEM_NAMESPACE, selector);
      return items.length === 2 && running.length === 2 ? true : undefined;
    },
    120_000,
    500,
  );
  const stream = startAdmissionStream(
    env.objects,
    namespace,
    streamImage.ref,
    `${streamImage.ref}@${streamImage.digest}`,
  );
  const drain = await shell.kubectl([
    "drain",
    node.name,
    `--pod-selector=${selector}`,
    "--ignore-daemonsets",
    "--delete-emptydir-data",
    "--timeout=40s",
  ]);
  // One replica is evicted; the other may not be while it is the last one ready.
  t.not(drain.exitCode, 0, drain.output);
  t.true(drain.output.includes("would violate the pod's disruption budget"), drain.output);
  t.is(drain.output.match(/^pod\/\S+ evicted$/gm)?.length, 1, drain.output);
  const during = await runningPods(core, SYSTEM_NAMESPACE, selector);
  t.is(during.length, 1);
  const pdb = await shell.kubectl([
    "get",
    "pdb",
    "-n",
    SYSTEM_NAMESPACE,
    "-o",
    "jsonpath={.items[0].status.currentHealthy}/{.items[0].status.disruptionsAllowed}",
  ]);
  t.is(pdb.output, "1/0");

  t.is((await shell.kubectl(["uncordon", node.name])).exitCode, 0);
  await waitForRollout(cluster.kubeConfig, SYSTEM_NAMESPACE, RELEASE);
  const result = await stream.stop();
  t.log(`${result.created} Pods created during the drain`);
  t.deepEqual(result.failures, []);
  t.deepEqual(result.unpinned, []);
  t.true(result.created >= 10, `only ${result.created} Pods were created`);
  const after = await runningPods(core, SYSTEM_NAMESPACE, selector);
  t.is(after.length, 2);
  t.true(after.every((pod) => pod.status?.containerStatuses?.[0]?.restartCount === 0));
}
