import type { CoreV1Api, V1Pod } from "@kubernetes/client-node";
import { stringify } from "yaml";
import type { Shell } from "../harness/e2e-shell.ts";
import { waitFor } from "../harness/wait.ts";

/** A Pod manifest with one container `app`, as `kubectl apply -f` takes it. */
export function podYaml(name: string, image: string, extra: Record<string, unknown> = {}): string {
  return stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: {
      containers: [{ name: "app", image }],
      terminationGracePeriodSeconds: 0,
      ...extra,
    },
  });
}

/** A Deployment of `replicas` Pods of `image` (label app=NAME), as `kubectl apply -f` takes it. */
export function deploymentYaml(name: string, image: string, replicas: number): string {
  return stringify({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "app", image }], terminationGracePeriodSeconds: 0 },
      },
    },
  });
}

/** Waits until the Pod's containers all run, and returns it. */
export async function waitRunning(
  core: CoreV1Api,
  namespace: string,
  name: string,
): Promise<V1Pod> {
  return waitFor(
    `pod ${namespace}/${name} to run`,
    async () => {
      const pod = await core.readNamespacedPod({ name, namespace });
      const statuses = pod.status?.containerStatuses ?? [];
      return pod.status?.phase === "Running" &&
        statuses.length > 0 &&
        statuses.every((status) => status.state?.running !== undefined)
        ? pod
        : undefined;
    },
    300_000,
    500,
  );
}

/** The Pods matching `selector`, Running with every container running. */
export async function runningPods(
  core: CoreV1Api,
  namespace: string,
  selector: string,
): Promise<V1Pod[]> {
  const { items } = await core.listNamespacedPod({ namespace, labelSelector: selector });
  return items.filter(
    (pod) =>
      pod.metadata?.deletionTimestamp === undefined &&
      pod.status?.phase === "Running" &&
      (pod.status.containerStatuses ?? []).every((status) => status.state?.running !== undefined),
  );
}

/**
 * What the node pulled and runs: each container's `status.containerStatuses[].imageID`, the
 * repository digest containerd resolved (`host/name@sha256:…`).
 */
export const imageIds = (pod: V1Pod): string[] =>
  (pod.status?.containerStatuses ?? []).map((status) => status.imageID);

/** `host/name:tag` → `host/name` (what an imageID is prefixed with). */
export function repositoryOf(reference: string): string {
  const at = reference.indexOf("@");
  const named = at === -1 ? reference : reference.slice(0, at);
  const colon = named.lastIndexOf(":");
  return colon > named.lastIndexOf("/") ? named.slice(0, colon) : named;
}

/** Polls a server-side dry-run until the webhook admits the manifest (policy edits propagate). */
export async function untilAdmitted(shell: Shell, namespace: string, file: string): Promise<void> {
  await waitFor(
    `${file} to be admitted`,
    async () => {
      const run = await shell.kubectl(["apply", "--dry-run=server", "-n", namespace, "-f", file]);
      return run.exitCode === 0 ? true : undefined;
    },
    30_000,
    250,
  );
}
