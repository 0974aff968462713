import { randomBytes } from "node:crypto";
import { ApiException, KubernetesObjectApi, type KubeConfig } from "@kubernetes/client-node";
import { retryTransport } from "../../src/kube/index.ts";
import type { Teardown } from "./lifecycle.ts";

/**
 * Creates a namespace named `PREFIX-RANDOM` and its `default` ServiceAccount; deleted on `t`'s
 * teardown (see createNamespace).
 */
export async function createTestNamespace(
  kubeConfig: KubeConfig,
  t: Teardown,
  prefix = "test",
): Promise<string> {
  const base = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  return createNamespace(kubeConfig, t, `${base || "test"}-${randomBytes(4).toString("hex")}`);
}

/**
 * Creates namespace `name` and its `default` ServiceAccount (without kube-controller-manager
 * nobody else does, and the ServiceAccount admission plugin rejects Pods without it). The
 * namespace is deleted on `t`'s teardown.
 */
export async function createNamespace(
  kubeConfig: KubeConfig,
  t: Teardown,
  name: string,
): Promise<string> {
  const objects = KubernetesObjectApi.makeApiClient(kubeConfig);
  const namespace = { apiVersion: "v1", kind: "Namespace", metadata: { name } };
  // A loaded API server may drop a connection: the create is repeated, and a namespace that
  // the dropped request did create is this test's own (names are unique per test).
  await retryTransport(() => objects.create(namespace)).catch((error: unknown) => {
    if (!(error instanceof ApiException && error.code === 409)) throw error;
  });
  t.teardown(async () => {
    // Without kube-controller-manager's namespace controller it stays Terminating; harmless.
    await objects.delete(namespace).catch(() => undefined);
  });
  try {
    await retryTransport(() =>
      objects.create({
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: { name: "default", namespace: name },
      }),
    );
  } catch (error) {
    // kube-controller-manager's serviceaccount controller may have been faster.
    if (!(error instanceof ApiException && error.code === 409)) throw error;
  }
  return name;
}
