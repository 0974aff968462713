import type { KubeConfig, V1Namespace } from "@kubernetes/client-node";
import { kubeLibrary } from "./library.ts";
import { silentLogger, type Logger } from "../observability/index.ts";
import { watchObjects, type ObjectWatch } from "./watch.ts";

/** Labels of a Kubernetes object. */
export type Labels = Readonly<Record<string, string>>;

/** The labels of every namespace, kept by an informer. */
export interface NamespaceLabels {
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * A namespace's labels: at once from the informer, or read when it has not seen it yet
   * (a promise); undefined when they cannot be read.
   */
  labels(namespace: string): Labels | Promise<Labels | undefined>;
}

export interface NamespaceLabelsOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger?: Logger;
}

/**
 * Namespace labels from a watch on namespaces (cluster-wide list and watch). A namespace
 * created a moment before its first Pod may not have reached the informer: it is then read
 * directly; if that fails too, the labels are unknown (and the failure logged).
 */
export function namespaceLabels(options: NamespaceLabelsOptions): NamespaceLabels {
  const logger = options.logger ?? silentLogger();
  const api = options.kubeConfig.makeApiClient(kubeLibrary().CoreV1Api);
  const watch: ObjectWatch<V1Namespace> = watchObjects<V1Namespace>({
    kubeConfig: options.kubeConfig,
    path: "/api/v1/namespaces",
    list: () => api.listNamespace(),
    onChange: () => undefined,
    what: "namespaces",
    logger,
  });
  return {
    start: () => watch.start(),
    stop: () => watch.stop(),
    labels(namespace) {
      const known = watch.get(namespace);
      if (known !== undefined) return known.metadata?.labels ?? {};
      return api.readNamespace({ name: namespace }).then(
        (read) => read.metadata?.labels ?? {},
        (error: unknown) => {
          logger.warn({ err: error, namespace }, "could not read the namespace's labels");
          return undefined;
        },
      );
    },
  };
}
