import type { KubeConfig, KubernetesListObject, KubernetesObject } from "@kubernetes/client-node";
import { kubeLibrary } from "./library.ts";
import { silentLogger, type Logger } from "../observability/index.ts";

export interface ObjectWatchOptions<T extends KubernetesObject> {
  readonly kubeConfig: KubeConfig;
  /** The collection's path, e.g. `/api/v1/namespaces/NS/configmaps` or `/api/v1/namespaces`. */
  readonly path: string;
  /** Lists the collection with the same selectors (the informer's first list and relists). */
  readonly list: () => Promise<KubernetesListObject<T>>;
  /** Namespace of the objects for list(); undefined for cluster-scoped ones. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Called after every add, update and delete (the cache already holds the change). */
  readonly onChange: () => void;
  /** What is watched, for logs ("ConfigMaps", "namespaces"). */
  readonly what: string;
  readonly logger?: Logger;
  /** First delay before restarting after an error; doubles up to 30 s. */
  readonly retryDelayMs?: number;
}

/** The objects a selector picks, as an informer keeps them. */
export interface ObjectWatch<T extends KubernetesObject> {
  /** Lists, then watches; resolves once the first list was done (or failed and is retried). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The objects as of the latest event. */
  list(): readonly T[];
  /** The object named `name` (in the watched namespace), as of the latest event. */
  get(name: string): T | undefined;
  /** True once a list succeeded. */
  readonly synced: boolean;
}

const MAX_RETRY_DELAY_MS = 30_000;

/**
 * An informer (@kubernetes/client-node ListWatch: one list, then a watch from its
 * resourceVersion, relisting after 410 Gone). The library stops after an error (API server
 * down, 403); this restarts it with a growing delay.
 */
export function watchObjects<T extends KubernetesObject>(
  options: ObjectWatchOptions<T>,
): ObjectWatch<T> {
  const { kubeConfig, path, labelSelector, fieldSelector, onChange, what, namespace } = options;
  const logger = options.logger ?? silentLogger();
  const { ListWatch, Watch } = kubeLibrary();
  const informer = new ListWatch<T>(
    path,
    new Watch(kubeConfig),
    options.list,
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
      { err: error, path, labelSelector, fieldSelector, retryInMs: delay },
      `watching ${what} failed; retrying`,
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
    get: (name) => informer.get(name, namespace),
    get synced() {
      return synced;
    },
  };
}
