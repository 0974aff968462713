import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { delimiter, join } from "node:path";
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
  POLICY_CONFIGMAP,
  PolicyInvalidError,
} from "../policy/index.ts";
import type { CliIO } from "./command.ts";

/** The options that say which policy a command reads or edits: files, or the cluster's. */
export const policyTargetOptions = {
  policy: { type: "string" },
  pins: { type: "string", multiple: true },
  kubeconfig: { type: "string" },
  namespace: { type: "string" },
  configmap: { type: "string" },
  "pin-store": { type: "string" },
  "pin-store-shards": { type: "string" },
} as const;

export const policyTargetUsage = `Where the policy is (the cluster's, unless --policy is given):
  --policy FILE               A policy file (kind: Policy), edited in place
  --pins FILE                 A pins file (kind: Pins) merged with it; repeatable
  --kubeconfig FILE           The cluster (default $KUBECONFIG, then ~/.kube/config)
  --namespace NS              digestpin's namespace (default ${DEFAULT_NAMESPACE})
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
      flags.namespace,
      flags.configmap,
      flags["pin-store"],
      flags["pin-store-shards"],
    ];
    if (clusterFlags.some((flag) => flag !== undefined)) {
      return "--policy edits a file; it cannot be combined with --kubeconfig, --namespace, --configmap or --pin-store";
    }
    return new PolicyFiles(flags.policy, flags.pins ?? []);
  }
  if (flags.pins !== undefined) return "--pins needs --policy";
  const kubeconfig = kubeconfigPath(flags.kubeconfig, env);
  if (kubeconfig === undefined) {
    return "no policy given: use --policy FILE, or --kubeconfig FILE (or $KUBECONFIG) for the cluster's";
  }
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
    loadKubeConfig({ kubeconfig }),
    layout,
    flags.configmap ?? POLICY_CONFIGMAP,
  );
}

export function kubeconfigPath(flag: string | undefined, env: CliIO["env"]): string | undefined {
  if (flag !== undefined) return flag;
  const fromEnv = env.KUBECONFIG?.split(delimiter).find((path) => path !== "");
  if (fromEnv !== undefined) return fromEnv;
  const home = env.HOME === undefined ? undefined : join(env.HOME, ".kube", "config");
  return home !== undefined && existsSync(home) ? home : undefined;
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
