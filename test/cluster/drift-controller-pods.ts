/**
 * ─── What a moved tag does to Pods a controller creates: THE ONE PLACE TO FLIP ───
 *
 * TODAY (main): a moved tag denies every new Pod that uses it, a ReplicaSet's included; the
 * ReplicaSet records FailedCreate and keeps retrying, and its Pod is created once the new digest
 * is approved, so it runs the approved (new) digest.
 *
 * COMING (the drift change for controller Pods): Pods with a controller ownerReference are
 * admitted rewritten to the *pinned* digest, with a warning. Then replace the body of
 * `assertControllerPodsOnDrift` with: wait for the new Pod to run (waitRunning), assert its
 * imageID is `repository@pinned`, and return `pinned` (the Pod keeps the pinned digest after
 * the approval).
 */
import type { ExecutionContext } from "ava";
import { waitFor } from "../harness/wait.ts";
import type { Cluster } from "./cluster-suite.ts";
import { runningPods } from "./pods.ts";

export interface DriftPodsInput {
  readonly namespace: string;
  /** A Deployment of the moved tag, one replica running the pinned digest, just scaled up. */
  readonly deployment: string;
  readonly pinned: string;
  readonly moved: string;
}

/**
 * Asserts what the scale-up does while the tag is moved; returns the digest the Pod the
 * scale-up asked for runs once `moved` is approved.
 */
export async function assertControllerPodsOnDrift(
  t: ExecutionContext,
  env: Cluster,
  input: DriftPodsInput,
): Promise<string> {
  const { core, shell } = env;
  // TODAY: the ReplicaSet's creation is denied, naming the moved tag; no second Pod.
  const event = await waitFor(
    "the ReplicaSet's FailedCreate event",
    async () => {
      const run = await shell.kubectl([
        "get",
        "events",
        "-n",
        input.namespace,
        "--field-selector",
        "reason=FailedCreate",
        "-o",
        "jsonpath={.items[*].message}",
      ]);
      return run.output.includes("the tag moved") ? run.output : undefined;
    },
    120_000,
    500,
  );
  t.true(event.includes(input.pinned) && event.includes(input.moved), event);
  const pods = await runningPods(core, input.namespace, `app=${input.deployment}`);
  t.is(pods.length, 1);
  const { items } = await core.listNamespacedPod({
    namespace: input.namespace,
    labelSelector: `app=${input.deployment}`,
  });
  t.is(items.length, 1, "no Pod was created at the moved digest");
  return input.moved;
}
