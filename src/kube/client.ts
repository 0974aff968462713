import { KubeConfig } from "@kubernetes/client-node";

/** Where the API server's address and credentials come from. */
export type KubeAccess = { readonly kubeconfig: string } | { readonly inCluster: true };

/**
 * A KubeConfig for the API server: the file given, or the pod's service account when digestpin
 * runs in a cluster. Read once at start-up; the client library refreshes rotated tokens.
 */
export function loadKubeConfig(access: KubeAccess): KubeConfig {
  const config = new KubeConfig();
  if ("kubeconfig" in access) config.loadFromFile(access.kubeconfig);
  else config.loadFromCluster();
  return config;
}
