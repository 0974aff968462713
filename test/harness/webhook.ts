import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { ApiException, KubernetesObjectApi, type KubernetesObject } from "@kubernetes/client-node";
import { webhookSettings, type WebhookSettings } from "../helpers/webhook-settings.ts";
import { httpGet } from "./kube-launch.ts";
import type { ControlPlane } from "./kube.ts";
import { tempDir, type Teardown } from "./lifecycle.ts";
import { startService, type Service } from "./service.ts";
import { createTestCa } from "./test-ca.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SERVING = "digestpin is serving";

export interface WebhookOptions {
  /** digestpin's own namespace, which exists and holds the policy ConfigMap already. */
  readonly namespace: string;
  /** Name of both webhook configurations: they are cluster-scoped, so unique per control plane user. */
  readonly name: string;
  /** A namespace the webhook enforces, for the probes that show a configuration took effect. */
  readonly probeNamespace: string;
  /** The policy ConfigMap (default digestpin-policy). */
  readonly policyConfigMap?: string;
  /** `--pull-secrets`. */
  readonly pullSecrets?: boolean;
  /** `--mutate-templates` (the mutating configuration then gets the template rules too). */
  readonly mutateTemplates?: boolean;
  /** `--log-level` (default debug). */
  readonly logLevel?: string;
  /**
   * Register the webhook configurations (default true). Another replica of a webhook already
   * registered passes false: it serves and scans, the API server calls the first.
   */
  readonly register?: boolean;
}

/**
 * `digestpin serve` as a separate process running the current sources, called by the control
 * plane's API server through the chart's webhook configurations (clientConfig.url + caBundle).
 */
export interface DigestpinWebhook {
  readonly namespace: string;
  readonly name: string;
  /** https://127.0.0.1:PORT: /mutate and /validate. */
  readonly url: string;
  /** http://127.0.0.1:PORT: /healthz, /readyz and /metrics. */
  readonly metricsUrl: string;
  /** The CA of the serving certificate (the configurations' caBundle). */
  readonly caPem: string;
  readonly logFile: string;
  /** The two configurations as registered. */
  readonly settings: WebhookSettings;
  /** Whether the process runs. */
  readonly running: boolean;
  /** Prometheus text of /metrics. */
  metrics(): Promise<string>;
  /** The sum of a metric's samples whose labels include `labels`. */
  metric(name: string, labels?: Readonly<Record<string, string>>): Promise<number>;
  /** Stops the process (SIGTERM; in-flight reviews finish). The configurations stay. */
  stop(): Promise<void>;
  /**
   * Starts the process again on the same ports (the configurations' URLs stay valid) and waits
   * until it answers. With `ready: false` it does not wait for /readyz (no valid policy).
   */
  start(options?: { ready?: boolean }): Promise<void>;
  /** Stops (SIGSTOP) and continues (SIGCONT) the process: a webhook that hangs. */
  freeze(): void;
  thaw(): void;
  /** The JSON log lines, parsed. */
  logLines(): Promise<Record<string, unknown>[]>;
  logTail(chars?: number): Promise<string>;
}

/**
 * Starts `digestpin serve --policy-configmap NS/NAME` with a serving certificate for 127.0.0.1
 * from a test CA, waits for /readyz, registers the chart's MutatingWebhookConfiguration and
 * ValidatingWebhookConfiguration (test/helpers/webhook-settings.ts) by URL, and returns once the
 * API server calls both. Stopped, and the configurations deleted, on teardown.
 */
export async function startDigestpinWebhook(
  t: Teardown,
  cluster: ControlPlane,
  options: WebhookOptions,
): Promise<DigestpinWebhook> {
  const dir = await tempDir(t, "webhook");
  const ca = await createTestCa(dir, "digestpin e2e webhook CA");
  const serving = await ca.issue("webhook", ["127.0.0.1"]);
  const logFile = join(dir, "digestpin.log");
  const policyConfigMap = options.policyConfigMap ?? "digestpin-policy";
  // The timeout the configurations carry is the one digestpin budgets its registry work by.
  const { timeoutSeconds } = webhookSettings({
    namespace: options.namespace,
    url: "https://127.0.0.1",
    caBundle: ca.caPem,
  });

  let service: Service | undefined;
  let ports = { port: 0, metricsPort: 0 };
  let url = "";
  let metricsUrl = "";
  const args = (): string[] => [
    "--import",
    "tsx",
    "src/cli.ts",
    "serve",
    "--policy-configmap",
    `${options.namespace}/${policyConfigMap}`,
    "--namespace",
    options.namespace,
    "--kubeconfig",
    cluster.kubeconfigPath,
    "--tls-cert-file",
    serving.certFile,
    "--tls-key-file",
    serving.keyFile,
    "--host",
    "127.0.0.1",
    "--port",
    String(ports.port),
    "--metrics-host",
    "127.0.0.1",
    "--metrics-port",
    String(ports.metricsPort),
    "--drain-delay",
    "0",
    "--timeout-seconds",
    String(timeoutSeconds),
    "--log-level",
    options.logLevel ?? "debug",
    ...(options.pullSecrets === true ? ["--pull-secrets"] : []),
    ...(options.mutateTemplates === true ? ["--mutate-templates"] : []),
  ];

  const launch = async (ready: boolean): Promise<void> => {
    const logBefore = (await readFile(logFile, "utf8").catch(() => "")).length;
    const started = startService({
      name: "digestpin serve",
      command: process.execPath,
      args: args(),
      logFile,
      cwd: REPO_ROOT,
      env: { NODE_ENV: "test", KUBECONFIG: cluster.kubeconfigPath },
    });
    service = started;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (started.process.exitCode !== null || started.process.signalCode !== null)
        throw new Error(`digestpin serve exited early:\n${await started.logTail()}`);
      const log = await readFile(logFile, "utf8").catch(() => "");
      const line = parseLines(log.slice(logBefore)).find((l) => l.msg === SERVING);
      if (line !== undefined) {
        url = String(line.url);
        metricsUrl = String(line.metricsUrl);
        break;
      }
      if (Date.now() > deadline)
        throw new Error(`digestpin serve did not start in 60 s:\n${await started.logTail()}`);
      await sleep(50);
    }
    ports = { port: Number(new URL(url).port), metricsPort: Number(new URL(metricsUrl).port) };
    if (!ready) return;
    for (;;) {
      const { status } = await httpGet(`${metricsUrl}/readyz`).catch(() => ({ status: 0 }));
      if (status === 200) return;
      if (Date.now() > deadline)
        throw new Error(`digestpin serve not ready after 60 s:\n${await started.logTail()}`);
      await sleep(50);
    }
  };

  const stop = async (): Promise<void> => {
    const running = service;
    service = undefined;
    running?.process.kill("SIGCONT"); // a frozen process would not see SIGTERM
    await running?.stop(10_000);
  };
  t.teardown(stop);
  try {
    await launch(true);
  } catch (error) {
    await stop();
    throw error;
  }

  const settings = webhookSettings({
    namespace: options.namespace,
    url,
    caBundle: ca.caPem,
    name: options.name,
    policyConfigMap,
    ...(options.mutateTemplates === true && { mutateTemplates: true }),
  });
  const objects = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
  const register = options.register ?? true;
  for (const configuration of register ? [settings.mutating, settings.validating] : []) {
    await objects.create(configuration);
    t.teardown(async () => {
      await objects.delete(configuration as KubernetesObject).catch(() => undefined);
    });
  }

  const metrics = async (): Promise<string> => {
    const { status, body } = await httpGet(`${metricsUrl}/metrics`);
    if (status !== 200) throw new Error(`GET ${metricsUrl}/metrics: ${status}`);
    return body;
  };
  const metric = async (name: string, labels: Readonly<Record<string, string>> = {}) =>
    sumSamples(await metrics(), name, labels);

  const webhook: DigestpinWebhook = {
    namespace: options.namespace,
    name: options.name,
    get url() {
      return url;
    },
    get metricsUrl() {
      return metricsUrl;
    },
    caPem: ca.caPem,
    logFile,
    settings,
    get running() {
      return service !== undefined;
    },
    metrics,
    metric,
    stop,
    async start(startOptions = {}) {
      if (service !== undefined) throw new Error("digestpin serve is running already");
      await launch(startOptions.ready ?? true);
    },
    freeze() {
      service?.process.kill("SIGSTOP");
    },
    thaw() {
      service?.process.kill("SIGCONT");
    },
    logLines: async () => parseLines(await readFile(logFile, "utf8").catch(() => "")),
    logTail: async (chars = 4000) =>
      (await readFile(logFile, "utf8").catch(() => "")).slice(-chars),
  };
  if (register)
    await untilCalled(webhook, cluster, objects, options.probeNamespace, policyConfigMap);
  return webhook;
}

/**
 * Returns once the API server calls both configurations: it reads them through an informer, a
 * moment after they change. Dry-run requests (which store nothing) probe until digestpin's
 * review counters move: a Pod for /mutate, the policy ConfigMap for /validate.
 */
async function untilCalled(
  webhook: DigestpinWebhook,
  cluster: ControlPlane,
  objects: KubernetesObjectApi,
  probeNamespace: string,
  policyConfigMap: string,
): Promise<void> {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "digestpin-probe", namespace: probeNamespace },
    // Not a valid reference: decided without contacting any registry, whatever the policy.
    spec: { containers: [{ name: "probe", image: "e2e-probe/Not-Valid:probe" }] },
  };
  const patch = (): object => ({
    metadata: {
      name: policyConfigMap,
      namespace: webhook.namespace,
      annotations: { "e2e.digestpin.dev/probe": String(Date.now()) },
    },
  });
  const probes: [string, () => Promise<unknown>][] = [
    ["mutate", () => objects.create(pod, undefined, "All")],
    [
      "validate",
      () =>
        cluster.kubectl([
          "patch",
          "configmap",
          policyConfigMap,
          `--namespace=${webhook.namespace}`,
          "--dry-run=server",
          "--type=merge",
          `--patch=${JSON.stringify(patch())}`,
        ]),
    ],
  ];
  const deadline = Date.now() + 30_000;
  for (const [endpoint, probe] of probes) {
    for (;;) {
      const before = await webhook.metric("digestpin_admission_reviews_total", { endpoint });
      await probe().catch((error: unknown) => {
        if (!(error instanceof ApiException)) throw error;
      });
      if ((await webhook.metric("digestpin_admission_reviews_total", { endpoint })) > before) break;
      if (Date.now() > deadline)
        throw new Error(
          `the API server never called ${endpoint} of webhook configuration ${webhook.name}:\n${await webhook.logTail()}`,
        );
      await sleep(100);
    }
  }
}

function parseLines(text: string): Record<string, unknown>[] {
  return text.split("\n").flatMap((line) => {
    if (!line.startsWith("{")) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** Sums the samples of `name` (Prometheus text format) whose labels include `labels`. */
export function sumSamples(
  text: string,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const have = new Map(
      [...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => have.get(key) === value))
      sum += Number(match[3]);
  }
  return sum;
}
