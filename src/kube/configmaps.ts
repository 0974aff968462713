import type { CoreV1Api, V1ConfigMap, KubeConfig } from "@kubernetes/client-node";
import { isApiException, kubeLibrary } from "./library.ts";
import { DigestpinError } from "../errors.ts";
import { explainKubeError, KubeApiError, retryTransport } from "./errors.ts";

/** Someone else changed (or created) the ConfigMap first: read it again and redo the change. */
export class ConfigMapConflictError extends DigestpinError {
  static readonly code = "ERR_CONFIGMAP_CONFLICT";

  constructor(namespace: string, name: string, options?: ErrorOptions) {
    super(
      ConfigMapConflictError.code,
      `configmap ${namespace}/${name} was changed by someone else meanwhile`,
      options,
    );
  }
}

/**
 * The ConfigMaps of one namespace, for reading and for writing with optimistic concurrency: a
 * replace carries the resourceVersion it was read at, and the API server refuses it (409,
 * ConfigMapConflictError) when the ConfigMap changed since.
 */
export class ConfigMaps {
  readonly #api: CoreV1Api;
  readonly #kubeConfig: KubeConfig;

  constructor(
    kubeConfig: KubeConfig,
    readonly namespace: string,
  ) {
    this.#kubeConfig = kubeConfig;
    this.#api = kubeConfig.makeApiClient(kubeLibrary().CoreV1Api);
  }

  /** The ConfigMap, or undefined when it does not exist. */
  async get(name: string): Promise<V1ConfigMap | undefined> {
    try {
      return await retryTransport(() =>
        this.#api.readNamespacedConfigMap({ name, namespace: this.namespace }),
      );
    } catch (error) {
      if (isApiException(error) && error.code === 404) return undefined;
      throw this.#explain(error, `read configmap ${this.namespace}/${name}`);
    }
  }

  async list(labelSelector: string): Promise<V1ConfigMap[]> {
    try {
      const list = await retryTransport(() =>
        this.#api.listNamespacedConfigMap({ namespace: this.namespace, labelSelector }),
      );
      return list.items;
    } catch (error) {
      throw this.#explain(error, `list configmaps in ${this.namespace}`);
    }
  }

  /** Creates the ConfigMap; ConfigMapConflictError when it exists already. */
  async create(
    name: string,
    labels: Readonly<Record<string, string>>,
    data: Readonly<Record<string, string>>,
  ): Promise<V1ConfigMap> {
    const { V1ConfigMap, V1ObjectMeta } = kubeLibrary();
    const body = Object.assign(new V1ConfigMap(), {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: Object.assign(new V1ObjectMeta(), {
        name,
        namespace: this.namespace,
        labels: { ...labels },
      }),
      data: { ...data },
    });
    return this.#conflicts(name, () =>
      this.#api.createNamespacedConfigMap({ namespace: this.namespace, body }),
    );
  }

  /**
   * Replaces the data of `current` (as read: its resourceVersion is the precondition), keeping
   * its other keys, labels (`labels` are added) and annotations; ConfigMapConflictError when it changed since.
   */
  async update(
    current: V1ConfigMap,
    data: Readonly<Record<string, string>>,
    labels: Readonly<Record<string, string>> = {},
  ): Promise<V1ConfigMap> {
    const { V1ConfigMap, V1ObjectMeta } = kubeLibrary();
    const name = current.metadata?.name ?? "";
    const body = Object.assign(new V1ConfigMap(), structuredClone(current));
    body.data = { ...current.data, ...data };
    body.metadata ??= new V1ObjectMeta();
    body.metadata.labels = { ...current.metadata?.labels, ...labels };
    return this.#conflicts(name, () =>
      this.#api.replaceNamespacedConfigMap({ name, namespace: this.namespace, body }),
    );
  }

  /**
   * Deletes `current` if it is still the version read (ConfigMapConflictError when it changed);
   * one already gone is fine.
   */
  async delete(current: V1ConfigMap): Promise<void> {
    const { V1DeleteOptions, V1Preconditions } = kubeLibrary();
    const name = current.metadata?.name ?? "";
    const resourceVersion = current.metadata?.resourceVersion;
    try {
      await this.#conflicts(name, () =>
        this.#api.deleteNamespacedConfigMap({
          name,
          namespace: this.namespace,
          body: Object.assign(new V1DeleteOptions(), {
            preconditions: Object.assign(new V1Preconditions(), {
              ...(resourceVersion !== undefined && { resourceVersion }),
            }),
          }),
        }),
      );
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return;
      throw error;
    }
  }

  async #conflicts<T>(name: string, call: () => Promise<T>): Promise<T> {
    try {
      return await retryTransport(call);
    } catch (error) {
      if (isApiException(error) && error.code === 409) {
        throw new ConfigMapConflictError(this.namespace, name, { cause: error });
      }
      throw this.#explain(error, `write configmap ${this.namespace}/${name}`);
    }
  }

  #explain(error: unknown, doing: string): Error {
    return explainKubeError(error, this.#kubeConfig, doing);
  }
}

/** The text under `key`, or undefined. */
export function dataOf(configMap: V1ConfigMap | undefined, key: string): string | undefined {
  return configMap?.data?.[key];
}
