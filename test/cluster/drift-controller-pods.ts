/**
 * What a moved tag does to the Pods a controller creates: they run at the pinned digest
 * (`controllerPods: use-pin`, the default), so a scale-up, a replacement or a rollout keeps
 * working while the tag is moved, and the ReplicaSet is told with a TagDrift Event. The node
 * pulls the pinned bytes: the Pod's imageID is the pin, never the moved digest.
 */
import type { ExecutionContext } from "ava";
import { waitFor } from "../harness/wait.ts";
import type { Cluster } from "./cluster-suite.ts";
import { imageIds, repositoryOf, runningPods } from "./pods.ts";

export interface DriftPodsInput {
  readonly namespace: string;
  /** A Deployment of the moved tag, one replica running the pinned digest, just scaled up. */
  readonly deployment: string;
  readonly image: string;
  readonly pinned: string;
  readonly moved: string;
}

/**
 * Asserts what the scale-up does while the tag is moved; returns the digest the Pod the
 * scale-up asked for runs (the pin, which it keeps after the new digest is approved).
 */
export async function assertControllerPodsOnDrift(
  t: ExecutionContext,
  env: Cluster,
  input: DriftPodsInput,
): Promise<string> {
  const { core, shell } = env;
  const pods = await waitFor(
    "the scaled-up Pod to run",
    async () => {
      const running = await runningPods(core, input.namespace, `app=${input.deployment}`);
      return running.length === 2 ? running : undefined;
    },
    300_000,
    500,
  );
  const pinned = `${repositoryOf(input.image)}@${input.pinned}`;
  t.deepEqual(pods.map(imageIds), [[pinned], [pinned]], "both run the pinned bytes");
  t.true(pods.every((pod) => pod.spec?.containers[0]?.image === `${input.image}@${input.pinned}`));
  const event = await waitFor(
    "a TagDrift Event on the ReplicaSet",
    async () => {
      const run = await shell.kubectl([
        "get",
        "events",
        "-n",
        input.namespace,
        "--field-selector",
        "reason=TagDrift,involvedObject.kind=ReplicaSet",
        "-o",
        "jsonpath={.items[*].message}",
      ]);
      return run.output === "" ? undefined : run.output;
    },
    60_000,
    500,
  );
  t.true(event.includes(input.pinned) && event.includes(input.moved), event);
  t.regex(event, /was admitted at the pinned digest/);
  return input.pinned;
}
