import { delimiter } from "node:path";
import { parseArgs } from "node:util";
import type { KubeAccess } from "../kube/index.ts";
import type { Logger, Metrics } from "../observability/index.ts";

/** What the webhook reports through: its logger, its metrics and the name of its pod. */
export interface WebhookContext {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The pod's name, for Events (`reportingInstance`). */
  readonly instance?: string | undefined;
}

/** Everything `digestpin serve` runs with, parsed and checked once at start-up. */
export interface ServeConfig {
  readonly policy:
    | { readonly kind: "file"; readonly file: string; readonly pinsFiles: readonly string[] }
    | { readonly kind: "configmap"; readonly namespace: string; readonly name: string };
  /** digestpin's pin store (trust-on-first-use pins go there), in the webhook's namespace. */
  readonly pinStore: {
    readonly prefix: string;
    readonly maxShards: number;
    readonly legacy: string;
  };
  /** The webhook's own namespace (its ConfigMaps, Secret, Events). */
  readonly namespace: string;
  readonly host: string;
  readonly port: number;
  readonly metricsHost: string;
  readonly metricsPort: number;
  readonly tls:
    | { readonly mode: "files"; readonly certFile: string; readonly keyFile: string }
    | {
        readonly mode: "self-managed";
        readonly secret: string;
        readonly service: string;
        readonly webhookConfigurations: readonly [string, string];
      }
    | { readonly mode: "ephemeral"; readonly hosts: readonly string[] };
  readonly kube: KubeAccess | undefined;
  /** The webhook configurations' timeoutSeconds. */
  readonly timeoutSeconds: number;
  /** Registry work of one review ends by then: the API server always gets an answer. */
  readonly budgetMs: number;
  readonly mutateTemplates: boolean;
  readonly pullSecrets: boolean;
  readonly logLevel: string;
  readonly drainDelayMs: number;
}

export const serveOptions = {
  policy: { type: "string" },
  pins: { type: "string", multiple: true },
  "policy-configmap": { type: "string" },
  "pin-store": { type: "string", default: "digestpin-pins" },
  "pin-store-shards": { type: "string", default: "64" },
  "auto-pins-configmap": { type: "string", default: "digestpin-pins-auto" },
  namespace: { type: "string" },
  host: { type: "string", default: "0.0.0.0" },
  port: { type: "string", default: "8443" },
  "metrics-host": { type: "string", default: "0.0.0.0" },
  "metrics-port": { type: "string", default: "9090" },
  "tls-cert-file": { type: "string" },
  "tls-key-file": { type: "string" },
  "tls-self-managed": { type: "boolean" },
  "tls-secret": { type: "string", default: "digestpin-tls" },
  service: { type: "string", default: "digestpin" },
  "webhook-configurations": { type: "string", default: "digestpin,digestpin" },
  "tls-host": { type: "string", multiple: true },
  kubeconfig: { type: "string" },
  context: { type: "string" },
  "timeout-seconds": { type: "string", default: "10" },
  "mutate-templates": { type: "boolean" },
  "pull-secrets": { type: "boolean" },
  "log-level": { type: "string", default: "info" },
  "drain-delay": { type: "string", default: "5" },
  help: { type: "boolean", short: "h" },
} as const;

type Env = Readonly<Record<string, string | undefined>>;

/** The levels `--log-level` takes (pino's, from the most to the least verbose). */
export const LOG_LEVELS: readonly string[] = ["trace", "debug", "info", "warn", "error"];
export type ConfigResult =
  { ok: true; config: ServeConfig } | { ok: false; error: string } | { ok: "help" };

/** Parses `digestpin serve` flags (and the pod environment) into a ServeConfig, or says what is wrong. */
export function parseServeConfig(args: readonly string[], env: Env): ConfigResult {
  let values;
  try {
    ({ values } = parseArgs({ args: [...args], options: serveOptions, allowPositionals: false }));
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
  if (values.help === true) return { ok: "help" };
  const inCluster = env.KUBERNETES_SERVICE_HOST !== undefined;
  const namespace = values.namespace ?? env.POD_NAMESPACE ?? "digestpin-system";
  const numbers = {
    port: port(values.port),
    metricsPort: port(values["metrics-port"]),
    timeoutSeconds: integer(values["timeout-seconds"], 1, 30),
    drainDelay: integer(values["drain-delay"], 0, 120),
    pinStoreShards: integer(values["pin-store-shards"], 1, 9999),
  };
  for (const [name, value] of Object.entries(numbers)) {
    if (value === undefined)
      return { ok: false, error: `--${kebab(name)} is out of range or not a number` };
  }
  if (!LOG_LEVELS.includes(values["log-level"])) {
    return {
      ok: false,
      error: `--log-level "${values["log-level"]}" is not one of ${LOG_LEVELS.join(", ")}`,
    };
  }
  const policy = policyChoice(values, namespace, inCluster);
  if (typeof policy === "string") return { ok: false, error: policy };
  const tls = tlsChoice(values, inCluster);
  if (typeof tls === "string") return { ok: false, error: tls };
  // --kubeconfig names one file; $KUBECONFIG may list several, merged as kubectl merges them.
  const kubeconfig = values.kubeconfig ?? env.KUBECONFIG?.split(delimiter).filter((f) => f !== "");
  const kube: KubeAccess | undefined =
    kubeconfig !== undefined && kubeconfig.length > 0
      ? { kubeconfig, ...(values.context !== undefined && { context: values.context }) }
      : inCluster
        ? { inCluster: true }
        : undefined;
  const needsKube =
    policy.kind === "configmap" || tls.mode === "self-managed" || values["pull-secrets"] === true;
  if (needsKube && kube === undefined) {
    return {
      ok: false,
      error:
        "this configuration talks to the API server: give --kubeconfig, set KUBECONFIG, or run in a cluster",
    };
  }
  const timeoutSeconds = numbers.timeoutSeconds ?? 10;
  return {
    ok: true,
    config: {
      policy,
      pinStore: {
        prefix: values["pin-store"],
        maxShards: numbers.pinStoreShards ?? 64,
        legacy: values["auto-pins-configmap"],
      },
      namespace,
      host: values.host,
      port: numbers.port ?? 8443,
      metricsHost: values["metrics-host"],
      metricsPort: numbers.metricsPort ?? 9090,
      tls,
      kube,
      timeoutSeconds,
      // Leave the API server 1.5 s (at least a quarter) for the round trip and our own work.
      budgetMs: Math.max(500, timeoutSeconds * 1000 - Math.max(1500, timeoutSeconds * 250)),
      mutateTemplates: values["mutate-templates"] === true,
      pullSecrets: values["pull-secrets"] === true,
      logLevel: values["log-level"],
      drainDelayMs: (numbers.drainDelay ?? 5) * 1000,
    },
  };
}

function policyChoice(
  values: { policy?: string; pins?: string[]; "policy-configmap"?: string },
  namespace: string,
  inCluster: boolean,
): ServeConfig["policy"] | string {
  if (values.policy !== undefined && values["policy-configmap"] !== undefined)
    return "give --policy or --policy-configmap, not both";
  if (values.policy !== undefined)
    return { kind: "file", file: values.policy, pinsFiles: values.pins ?? [] };
  const ref =
    values["policy-configmap"] ?? (inCluster ? `${namespace}/digestpin-policy` : undefined);
  if (ref === undefined) return "give --policy FILE or --policy-configmap NAMESPACE/NAME";
  const [ns, name, extra] = ref.includes("/") ? ref.split("/") : [namespace, ref];
  if (ns === undefined || ns === "" || name === undefined || name === "" || extra !== undefined)
    return `--policy-configmap "${ref}" is not NAMESPACE/NAME`;
  return { kind: "configmap", namespace: ns, name };
}

function tlsChoice(
  values: {
    "tls-cert-file"?: string;
    "tls-key-file"?: string;
    "tls-self-managed"?: boolean;
    "tls-secret": string;
    service: string;
    "webhook-configurations": string;
    "tls-host"?: string[];
  },
  inCluster: boolean,
): ServeConfig["tls"] | string {
  const certFile = values["tls-cert-file"];
  const keyFile = values["tls-key-file"];
  if ((certFile === undefined) !== (keyFile === undefined))
    return "--tls-cert-file and --tls-key-file go together";
  if (certFile !== undefined && keyFile !== undefined) {
    if (values["tls-self-managed"] === true)
      return "give mounted certificates or --tls-self-managed, not both";
    return { mode: "files", certFile, keyFile };
  }
  if (values["tls-self-managed"] === true) {
    const [mutating, validating, extra] = values["webhook-configurations"]
      .split(",")
      .map((s) => s.trim());
    if (
      mutating === undefined ||
      mutating === "" ||
      validating === undefined ||
      validating === "" ||
      extra !== undefined
    ) {
      return "--webhook-configurations is MUTATING_NAME,VALIDATING_NAME";
    }
    return {
      mode: "self-managed",
      secret: values["tls-secret"],
      service: values.service,
      webhookConfigurations: [mutating, validating],
    };
  }
  if (inCluster) return "in a cluster, give --tls-self-managed or --tls-cert-file/--tls-key-file";
  return { mode: "ephemeral", hosts: values["tls-host"] ?? ["127.0.0.1", "localhost"] };
}

function port(text: string): number | undefined {
  return integer(text, 0, 65535);
}

function integer(text: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const value = Number(text);
  return value >= min && value <= max ? value : undefined;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
