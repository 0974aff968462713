import { KubeConfig, VersionApi, type RequestContext } from "@kubernetes/client-node";
import type { Dispatcher } from "undici";
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
  const config = new ReusingKubeConfig();
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

/**
 * A KubeConfig whose requests share connections. @kubernetes/client-node 2.0 builds a new
 * undici Agent, so a new TCP connection and TLS handshake, for every request it authenticates;
 * under load the API server sees a storm of handshakes and drops connections. This keeps one
 * Agent per cluster and user and hands it to every request.
 */
export class ReusingKubeConfig extends KubeConfig {
  readonly #dispatchers = new Map<string, Dispatcher>();

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const built = context.getDispatcher();
    if (built === undefined) return;
    const cluster = this.getCurrentCluster();
    const user = this.getCurrentUser();
    const key = JSON.stringify([cluster?.name, cluster?.server, user?.name]);
    let shared = this.#dispatchers.get(key);
    if (shared === undefined) {
      shared = built;
      this.#dispatchers.set(key, shared);
    }
    context.setDispatcher(shared);
  }
}
