import { existsSync } from "node:fs";
import type { KubeConfig, Cluster, Context, RequestContext, User } from "@kubernetes/client-node";
import { kubeLibrary } from "./library.ts";
import type { Dispatcher } from "undici";
import { DigestpinError, quote } from "../errors.ts";
import { explainKubeError } from "./errors.ts";

/**
 * Where the API server's address and credentials come from: kubeconfig files, or the pod's
 * service account. Several files are merged as kubectl merges $KUBECONFIG.
 */
export type KubeAccess =
  | {
      readonly kubeconfig: string | readonly string[];
      /** The context to use instead of the files' current-context (kubectl's --context). */
      readonly context?: string | undefined;
      /** Each request's budget, in ms (kubectl's --request-timeout); none when absent or 0. */
      readonly requestTimeoutMs?: number | undefined;
    }
  | { readonly inCluster: true };

/**
 * A KubeConfig for the API server: the files given (merged as kubectl merges $KUBECONFIG),
 * or the pod's service account when digestpin runs in a cluster. Read once at start-up; the
 * client library refreshes rotated tokens. A file that cannot be read, a context that is not
 * there, or no server is an ERR_KUBECONFIG error saying which and why.
 */
export function loadKubeConfig(access: KubeAccess): KubeConfig {
  const config = reusingKubeConfig();
  const files =
    "kubeconfig" in access
      ? typeof access.kubeconfig === "string"
        ? [access.kubeconfig]
        : access.kubeconfig
      : [];
  const where = "kubeconfig" in access ? `kubeconfig ${files.join(":")}` : "the in-cluster config";
  if ("kubeconfig" in access) {
    mergeKubeConfigs(config, files);
    if (access.context !== undefined) {
      if (config.getContextObject(access.context) === null) {
        const known = config.getContexts().map((c) => c.name);
        throw new DigestpinError(
          "ERR_KUBECONFIG",
          `context ${quote(access.context)} is not in ${where} (its contexts: ${known.length === 0 ? "none" : known.join(", ")}); check --context`,
        );
      }
      config.setCurrentContext(access.context);
    }
    config.requestTimeoutMs = access.requestTimeoutMs ?? 0;
  } else {
    try {
      config.loadFromCluster();
    } catch (error) {
      throw new DigestpinError("ERR_KUBECONFIG", `cannot read ${where}: ${firstLine(error)}`, {
        cause: error,
      });
    }
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
    await kubeConfig.makeApiClient(kubeLibrary().VersionApi).getCode();
  } catch (error) {
    throw explainKubeError(error, kubeConfig, "read its version");
  }
}

/**
 * Reads `files` into `config` as kubectl merges $KUBECONFIG: files that do not exist are skipped
 * (a single file named on its own must exist); the first file to name a cluster, user or
 * context wins, later ones never change it; the current-context is the first file's that sets
 * one. Relative paths inside a file are taken from the file's folder.
 */
function mergeKubeConfigs(config: KubeConfig, files: readonly string[]): void {
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  let currentContext: string | undefined;
  const present = files.length === 1 ? files : files.filter((file) => existsSync(file));
  if (present.length === 0) {
    throw new DigestpinError(
      "ERR_KUBECONFIG",
      `none of the kubeconfig files ${files.join(":")} exists; check $KUBECONFIG or give --kubeconfig`,
    );
  }
  for (const file of present) {
    const one = new (kubeLibrary().KubeConfig)();
    try {
      one.loadFromFile(file);
    } catch (error) {
      throw new DigestpinError(
        "ERR_KUBECONFIG",
        `cannot read kubeconfig ${file}: ${firstLine(error)}`,
        {
          cause: error,
        },
      );
    }
    for (const cluster of one.getClusters())
      if (!clusters.has(cluster.name)) clusters.set(cluster.name, cluster);
    for (const user of one.getUsers()) if (!users.has(user.name)) users.set(user.name, user);
    for (const context of one.getContexts())
      if (!contexts.has(context.name)) contexts.set(context.name, context);
    const current = one.getCurrentContext() as string | undefined;
    if (currentContext === undefined && current !== undefined && current !== "")
      currentContext = current;
  }
  config.loadFromOptions({
    clusters: [...clusters.values()],
    users: [...users.values()],
    contexts: [...contexts.values()],
    currentContext: currentContext ?? "",
  });
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
export interface ReusingKubeConfig extends KubeConfig {
  /** Each request's budget (kubectl's --request-timeout); 0 for none. */
  requestTimeoutMs: number;
}

/** The ReusingKubeConfig class, made once the library is loaded. */
let reusing: (new () => ReusingKubeConfig) | undefined;

/** A new, empty ReusingKubeConfig (the library loaded now if it was not). */
export function reusingKubeConfig(): ReusingKubeConfig {
  reusing ??= reusingClass(kubeLibrary().KubeConfig);
  return new reusing();
}

function reusingClass(Base: typeof KubeConfig): new () => ReusingKubeConfig {
  return class extends Base implements ReusingKubeConfig {
    readonly #dispatchers = new Map<string, Dispatcher>();
    requestTimeoutMs = 0;

    override async applySecurityAuthentication(context: RequestContext): Promise<void> {
      await super.applySecurityAuthentication(context);
      if (this.requestTimeoutMs > 0 && context.getSignal() === undefined)
        context.setSignal(AbortSignal.timeout(this.requestTimeoutMs));
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
  };
}
