import type { KubeConfig, V1ConfigMap } from "@kubernetes/client-node";
import { kubeLibrary } from "./library.ts";
import type { Logger } from "../observability/index.ts";
import { watchObjects, type ObjectWatch } from "./watch.ts";

export interface ConfigMapWatchOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Called after every add, update and delete (the cache already holds the change). */
  readonly onChange: () => void;
  readonly logger?: Logger;
  /** First delay before restarting after an error; doubles up to 30 s. */
  readonly retryDelayMs?: number;
}

/** The ConfigMaps a selector picks in one namespace, as an informer keeps them. */
export type ConfigMapWatch = ObjectWatch<V1ConfigMap>;

/** An informer on the ConfigMaps of one namespace (see watch.ts). */
export function watchConfigMaps(options: ConfigMapWatchOptions): ConfigMapWatch {
  const { kubeConfig, namespace, labelSelector, fieldSelector } = options;
  const api = kubeConfig.makeApiClient(kubeLibrary().CoreV1Api);
  return watchObjects<V1ConfigMap>({
    ...options,
    path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`,
    list: () =>
      api.listNamespacedConfigMap({
        namespace,
        ...(labelSelector !== undefined && { labelSelector }),
        ...(fieldSelector !== undefined && { fieldSelector }),
      }),
    what: "ConfigMaps",
  });
}
