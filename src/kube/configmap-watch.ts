import {
  CoreV1Api,
  ListWatch,
  Watch,
  type KubeConfig,
  type V1ConfigMap,
} from "@kubernetes/client-node";
import { silentLogger, type Logger } from "../observability/logger.ts";

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
export interface ConfigMapWatch {
  /** Lists, then watches; resolves once the first list was done (or failed and is retried). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The ConfigMaps as of the latest event. */
  list(): readonly V1ConfigMap[];
  /** True once a list succeeded. */
  readonly synced: boolean;
}

const MAX_RETRY_DELAY_MS = 30_000;

/**
 * An informer (@kubernetes/client-node ListWatch: one list, then a watch from its
 * resourceVersion, relisting after 410 Gone) on ConfigMaps. The library stops after an error
 * (API server down, 403); this restarts it with a growing delay.
 */
export function watchConfigMaps(options: ConfigMapWatchOptions): ConfigMapWatch {
  const { kubeConfig, namespace, labelSelector, fieldSelector, onChange } = options;
  const logger = options.logger ?? silentLogger();
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const list = () =>
    api.listNamespacedConfigMap({
      namespace,
      ...(labelSelector !== undefined && { labelSelector }),
      ...(fieldSelector !== undefined && { fieldSelector }),
    });
  const informer = new ListWatch<V1ConfigMap>(
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`,
    new Watch(kubeConfig),
    list,
    false,
    labelSelector,
    fieldSelector,
  );
  const baseDelay = options.retryDelayMs ?? 1000;
  let delay = baseDelay;
  let stopped = false;
  let synced = false;
  let retry: NodeJS.Timeout | undefined;
  let errors = 0;
  const changed = (): void => {
    synced = true;
    delay = baseDelay;
    onChange();
  };
  informer.on("add", changed);
  informer.on("update", changed);
  informer.on("delete", changed);
  informer.on("error", (error: unknown) => {
    errors += 1;
    if (stopped) return;
    logger.warn(
      { err: error, namespace, labelSelector, fieldSelector, retryInMs: delay },
      "watching ConfigMaps failed; retrying",
    );
    retry = setTimeout(() => void run(), delay);
    delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
  });
  const run = async (): Promise<void> => {
    const before = errors;
    await informer.start();
    if (errors === before && !synced) {
      synced = true; // an empty list raises no event
      onChange();
    }
  };
  return {
    start: run,
    async stop() {
      stopped = true;
      clearTimeout(retry);
      await informer.stop();
    },
    list: () => informer.list(namespace),
    get synced() {
      return synced;
    },
  };
}
