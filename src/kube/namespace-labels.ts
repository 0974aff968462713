import { CoreV1Api, type KubeConfig, type V1Namespace } from "@kubernetes/client-node";
import { silentLogger, type Logger } from "../observability/logger.ts";
import type { Labels } from "../policy/label-selector.ts";
import { nameOnlyLabels } from "../policy/namespace-settings.ts";
import { watchObjects, type ObjectWatch } from "./watch.ts";

/** The labels of every namespace, kept by an informer, for `namespaces` rules. */
export interface NamespaceLabels {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A namespace's labels: from the informer, or read once when it has not seen it yet. */
  labels(namespace: string): Promise<Labels>;
}

export interface NamespaceLabelsOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger?: Logger;
}

/**
 * Namespace labels from a watch on namespaces (cluster-wide list and watch). A namespace
 * created a moment before its first Pod may not have reached the informer: it is then read
 * directly; if that fails too, only its name is known and the policy's own settings apply.
 */
export function namespaceLabels(options: NamespaceLabelsOptions): NamespaceLabels {
  const logger = options.logger ?? silentLogger();
  const api = options.kubeConfig.makeApiClient(CoreV1Api);
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
    async labels(namespace) {
      const known = watch.get(namespace);
      if (known !== undefined) return labelsOf(known, namespace);
      try {
        return labelsOf(await api.readNamespace({ name: namespace }), namespace);
      } catch (error) {
        logger.warn(
          { err: error, namespace },
          "could not read the namespace's labels; the policy's own settings apply",
        );
        return nameOnlyLabels(namespace);
      }
    },
  };
}

function labelsOf(namespace: V1Namespace, name: string): Labels {
  return { ...nameOnlyLabels(name), ...namespace.metadata?.labels };
}
