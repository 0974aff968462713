import { KubeConfig, VersionApi } from "@kubernetes/client-node";
import { DigestpinError } from "../errors.ts";
import { explainKubeError } from "./errors.ts";

/** Where the API server's address and credentials come from. */
export type KubeAccess = { readonly kubeconfig: string } | { readonly inCluster: true };

/**
 * A KubeConfig for the API server: the file given, or the pod's service account when digestpin
 * runs in a cluster. Read once at start-up; the client library refreshes rotated tokens. A file
 * that cannot be read, or names no server, is an ERR_KUBECONFIG error saying which and why.
 */
export function loadKubeConfig(access: KubeAccess): KubeConfig {
  const config = new KubeConfig();
  const where =
    "kubeconfig" in access ? `kubeconfig ${access.kubeconfig}` : "the in-cluster config";
  try {
    if ("kubeconfig" in access) config.loadFromFile(access.kubeconfig);
    else config.loadFromCluster();
  } catch (error) {
    throw new DigestpinError("ERR_KUBECONFIG", `cannot read ${where}: ${firstLine(error)}`, {
      cause: error,
    });
  }
  if (config.getCurrentCluster()?.server === undefined) {
    const context = config.getCurrentContext() as string | undefined;
    throw new DigestpinError(
      "ERR_KUBECONFIG",
      `${where} names no cluster ${context === undefined || context === "" ? "(no current-context)" : `for context "${context}"`}; check its current-context, clusters and contexts`,
    );
  }
  return config;
}

/** Asks the API server for its version: proves it is reachable and takes the credentials. */
export async function checkApiServer(kubeConfig: KubeConfig): Promise<void> {
  try {
    await kubeConfig.makeApiClient(VersionApi).getCode();
  } catch (error) {
    throw explainKubeError(error, kubeConfig, "read its version");
  }
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split("\n")[0] ?? message).trim();
}
