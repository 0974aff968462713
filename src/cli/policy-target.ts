import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { delimiter, join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { loadKubeConfig } from "../kube/index.ts";
import {
  DEFAULT_MAX_SHARDS,
  DEFAULT_STORE_PREFIX,
  PolicyConfigMaps,
  PolicyFiles,
  type PolicyStore,
} from "../pins/index.ts";
import {
  AUTO_PINS_CONFIGMAP,
  DEFAULT_NAMESPACE,
  formatIssue,
  parseDuration,
  POLICY_CONFIGMAP,
  PolicyInvalidError,
} from "../policy/index.ts";
import type { CliIO } from "./command.ts";

/** The options that say which policy a command reads or edits: files, or the cluster's. */
export const policyTargetOptions = {
  policy: { type: "string" },
  pins: { type: "string", multiple: true },
  kubeconfig: { type: "string" },
  context: { type: "string" },
  "request-timeout": { type: "string" },
  namespace: { type: "string", short: "n" },
  configmap: { type: "string" },
  "pin-store": { type: "string" },
  "pin-store-shards": { type: "string" },
} as const;

export const policyTargetUsage = `Where the policy is (the cluster's, unless --policy is given):
  --policy FILE               A policy file (kind: Policy); pin and approve edit it in place
  --pins FILE                 A pins file (kind: Pins) merged with it; repeatable
  --kubeconfig FILE           The cluster (default $KUBECONFIG, its files merged as kubectl
                              merges them, then ~/.kube/config)
  --context NAME              The kubeconfig context (default its current-context)
  --request-timeout DURATION  Budget of each API request, e.g. 30s or 1m (default 0: none;
                              a plain number is seconds)
  -n, --namespace NS          digestpin's namespace (default ${DEFAULT_NAMESPACE}, where the chart
                              installs it; not the context's namespace)
  --configmap NAME            The policy ConfigMap (default ${POLICY_CONFIGMAP}); pins also come
                              from every ConfigMap there labelled digestpin.dev/pins=true
  --pin-store PREFIX          digestpin's pin store, ConfigMaps PREFIX-000, PREFIX-001, … where
                              pins it records go (default ${DEFAULT_STORE_PREFIX})
  --pin-store-shards N        How many ConfigMaps the store may use (default ${DEFAULT_MAX_SHARDS},
                              as the chart's pinStore.maxShards)
`;

export interface PolicyTargetFlags {
  readonly policy?: string | undefined;
  readonly pins?: readonly string[] | undefined;
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  readonly "request-timeout"?: string | undefined;
  readonly namespace?: string | undefined;
  readonly configmap?: string | undefined;
  readonly "pin-store"?: string | undefined;
  readonly "pin-store-shards"?: string | undefined;
}

/** The policy store the flags name; a string says what is missing (a usage error). */
export function openPolicyStore(flags: PolicyTargetFlags, env: CliIO["env"]): PolicyStore | string {
  if (flags.policy !== undefined) {
    const clusterFlags = [
      flags.kubeconfig,
      flags.context,
      flags["request-timeout"],
      flags.namespace,
      flags.configmap,
      flags["pin-store"],
      flags["pin-store-shards"],
    ];
    if (clusterFlags.some((flag) => flag !== undefined)) {
      return "--policy edits a file; it cannot be combined with --kubeconfig, --context, --request-timeout, --namespace, --configmap or --pin-store";
    }
    return new PolicyFiles(flags.policy, flags.pins ?? []);
  }
  if (flags.pins !== undefined) return "--pins needs --policy";
  const kubeconfig = kubeconfigPath(flags.kubeconfig, env);
  if (kubeconfig === undefined) {
    return "no policy given: use --policy FILE, or --kubeconfig FILE (or $KUBECONFIG) for the cluster's";
  }
  const requestTimeoutMs = readRequestTimeout(flags["request-timeout"] ?? "0");
  if (typeof requestTimeoutMs === "string") return requestTimeoutMs;
  const shards = flags["pin-store-shards"] ?? String(DEFAULT_MAX_SHARDS);
  if (!/^\d{1,4}$/.test(shards) || Number(shards) < 1)
    return `--pin-store-shards ${shards} is not a number from 1 to 9999`;
  const layout = {
    namespace: flags.namespace ?? DEFAULT_NAMESPACE,
    prefix: flags["pin-store"] ?? DEFAULT_STORE_PREFIX,
    maxShards: Number(shards),
    legacy: AUTO_PINS_CONFIGMAP,
  };
  return new PolicyConfigMaps(
    loadKubeConfig({ kubeconfig, context: flags.context, requestTimeoutMs }),
    layout,
    flags.configmap ?? POLICY_CONFIGMAP,
  );
}

/**
 * The cluster the flags name (--kubeconfig, --context, --request-timeout, kubectl's way), for
 * commands that read the cluster without a policy store; a string is a usage problem.
 */
export function openKubeConfig(flags: PolicyTargetFlags, env: CliIO["env"]): KubeConfig | string {
  const kubeconfig = kubeconfigPath(flags.kubeconfig, env);
  if (kubeconfig === undefined) return "no cluster: use --kubeconfig FILE (or $KUBECONFIG)";
  const requestTimeoutMs = readRequestTimeout(flags["request-timeout"] ?? "0");
  if (typeof requestTimeoutMs === "string") return requestTimeoutMs;
  return loadKubeConfig({ kubeconfig, context: flags.context, requestTimeoutMs });
}

/**
 * The kubeconfig files, as kubectl finds them: --kubeconfig (one file), else every file of
 * $KUBECONFIG (merged), else ~/.kube/config when it exists.
 */
function kubeconfigPath(
  flag: string | undefined,
  env: CliIO["env"],
): string | readonly string[] | undefined {
  if (flag !== undefined) return flag;
  const fromEnv = (env.KUBECONFIG ?? "").split(delimiter).filter((path) => path !== "");
  if (fromEnv.length > 0) return fromEnv;
  const home = env.HOME === undefined ? undefined : join(env.HOME, ".kube", "config");
  return home !== undefined && existsSync(home) ? home : undefined;
}

/** kubectl's --request-timeout: "0" (none), a duration (30s, 1m), or a number of seconds. */
function readRequestTimeout(text: string): number | string {
  if (/^\d{1,6}$/.test(text)) return Number(text) * 1000;
  const duration = parseDuration(text);
  return duration.ok ? duration.ms : `--request-timeout: ${duration.problem}`;
}

/** Who is editing: --by, or `$USER@host` from the environment. */
export function editorOf(by: string | undefined, env: CliIO["env"]): string {
  return by ?? `${env.USER ?? env.LOGNAME ?? "unknown"}@${env.HOSTNAME ?? hostname()}`;
}

/** Prints a failure of reading or writing the policy; returns the exit status (1). */
export function reportPolicyError(command: string, error: unknown, io: CliIO): number {
  if (error instanceof PolicyInvalidError) {
    io.stderr(`digestpin ${command}: the policy is invalid; fix it first:\n`);
    for (const issue of error.issues) io.stderr(`  ${formatIssue(issue)}\n`);
  } else {
    io.stderr(`digestpin ${command}: ${(error as Error).message}\n`);
  }
  return 1;
}
