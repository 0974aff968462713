import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import { kubeLibrary } from "../kube/index.ts";
import { watchObjects, type ObjectWatch } from "../kube/index.ts";
import type { Logger } from "../observability/index.ts";
import { buildInventory, type Inventory, type WorkloadView } from "./inventory.ts";

/** Pods and workloads of every namespace, kept by informers while the scan leader runs. */
export interface WorkloadWatch {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Which workloads use each tag now. */
  inventory(): Inventory;
}

/** Informers on Pods, Deployments, StatefulSets and DaemonSets of all namespaces. */
export function watchWorkloads(kubeConfig: KubeConfig, logger: Logger): WorkloadWatch {
  const core = kubeConfig.makeApiClient(kubeLibrary().CoreV1Api);
  const apps = kubeConfig.makeApiClient(kubeLibrary().AppsV1Api);
  const watch = <T extends KubernetesObject>(
    path: string,
    what: string,
    list: () => Promise<{ items: T[] }>,
  ): ObjectWatch<T> =>
    watchObjects<T>({ kubeConfig, path, what, list, onChange: () => undefined, logger });
  const pods = watch("/api/v1/pods", "Pods", () => core.listPodForAllNamespaces());
  const workloads = [
    [
      "Deployment",
      watch("/apis/apps/v1/deployments", "Deployments", () =>
        apps.listDeploymentForAllNamespaces(),
      ),
    ],
    [
      "StatefulSet",
      watch("/apis/apps/v1/statefulsets", "StatefulSets", () =>
        apps.listStatefulSetForAllNamespaces(),
      ),
    ],
    [
      "DaemonSet",
      watch("/apis/apps/v1/daemonsets", "DaemonSets", () => apps.listDaemonSetForAllNamespaces()),
    ],
  ] as const;
  const all = [pods, ...workloads.map(([, w]) => w)];
  return {
    async start() {
      await Promise.all(all.map((w) => w.start()));
    },
    async stop() {
      await Promise.all(all.map((w) => w.stop()));
    },
    inventory: () =>
      buildInventory(
        workloads.flatMap(([kind, w]) =>
          w.list().map((object) => ({ ...(object as WorkloadView), kind })),
        ),
        pods.list(),
      ),
  };
}
