import {
  ApiException,
  CoreV1Api,
  KubernetesObjectApi,
  type KubeConfig,
} from "@kubernetes/client-node";

/** Creates or replaces a ConfigMap (plain objects through KubernetesObjectApi). */
export async function putConfigMap(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
  data: Record<string, string>,
  labels: Record<string, string> = {},
): Promise<void> {
  const objects = KubernetesObjectApi.makeApiClient(kubeConfig);
  const object = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace, labels },
    data,
  };
  try {
    await objects.create(object);
  } catch (error) {
    if (!(error instanceof ApiException && error.code === 409)) throw error;
    await objects.replace(object);
  }
}

/** A ConfigMap's data, or undefined when there is no such ConfigMap. */
export async function readConfigMapData(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
): Promise<Record<string, string> | undefined> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  try {
    return (await core.readNamespacedConfigMap({ name, namespace })).data;
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return undefined;
    throw error;
  }
}
