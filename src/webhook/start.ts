import { setTimeout as sleep } from "node:timers/promises";
import type { KubeConfig } from "@kubernetes/client-node";
import type { AdmissionDeps } from "../admission/index.ts";
import { DigestpinError } from "../errors.ts";
import {
  apiPullSecretSource,
  checkApiServer,
  EventRecorder,
  loadKubeConfig,
  namespaceLabels,
  objectKeyReader,
} from "../kube/index.ts";
import { digestpinVersion } from "../observability/index.ts";
import {
  ConfigMapPolicySource,
  movePin,
  PolicyConfigMaps,
  StorePinRecorder,
} from "../pins/index.ts";
import { FilePolicySource, formatIssue, type Policy, type PolicySource } from "../policy/index.ts";
import { createTlsSource, secureContextOptions, type TlsSource } from "../tls/index.ts";
import type { ServeConfig, WebhookContext } from "./config.ts";
import { driftEvents } from "./drift-events.ts";
import { PolicyImageFacts } from "./policy-image-facts.ts";
import { policyReport } from "./policy-report.ts";
import { PolicyResolver } from "./policy-resolver.ts";
import { PolicySignatures } from "./policy-signatures.ts";
import { reviewKeychain } from "./review-keychain.ts";
import { startServer, type RunningServer } from "./server.ts";
import { driftScan } from "./drift-scan.ts";

export interface Webhook {
  readonly server: RunningServer;
  readonly policy: PolicySource;
  readonly tls: TlsSource;
  /** Drains and stops everything, in the order that loses no request. */
  stop(): Promise<void>;
}

/**
 * digestpin serve, assembled: the policy source, the TLS source, the registry resolver
 * following the policy, credentials, the trust-on-first-use recorder and the HTTPS server.
 */
export async function startWebhook(config: ServeConfig, context: WebhookContext): Promise<Webhook> {
  const { logger, metrics } = context;
  const kubeConfig = config.kube === undefined ? undefined : loadKubeConfig(config.kube);
  if (kubeConfig !== undefined) await checkApiServer(kubeConfig);
  const events =
    kubeConfig === undefined
      ? undefined
      : new EventRecorder(kubeConfig, {
          logger,
          ...(context.instance !== undefined && { instance: context.instance }),
        });
  const policy = policySource(config, context, kubeConfig, events);
  const namespaces = kubeConfig === undefined ? undefined : namespaceLabels({ kubeConfig, logger });
  await Promise.all([policy.start(), namespaces?.start()]);
  if (policy.current() === undefined && config.policy.kind === "file") {
    // A file is read once, here: say at once what to fix instead of serving unready.
    await Promise.all([policy.stop(), namespaces?.stop()]);
    throw new DigestpinError(
      "ERR_POLICY_INVALID",
      `the policy is invalid; fix it and start again:\n${policy.issues.map((i) => `  ${formatIssue(i)}`).join("\n")}`,
    );
  }
  if (policy.current() === undefined)
    logger.warn(
      { reason: notReadyReason(policy) },
      "no valid policy yet: every review is denied until one loads",
    );
  const tls = createTlsSource(config.tls, {
    namespace: config.namespace,
    logger,
    metrics,
    ...(kubeConfig !== undefined && { kubeConfig }),
  });
  await tls.start();
  const resolver = new PolicyResolver(() => policy.current(), metrics);
  policy.onChange(resolver.policyChanged);
  const facts = new PolicyImageFacts(() => policy.current());
  // The store lives where the policy source reads pins: the policy ConfigMap's namespace.
  const recorder =
    kubeConfig === undefined || config.policy.kind !== "configmap"
      ? undefined
      : new StorePinRecorder({
          kubeConfig,
          layout: { namespace: config.policy.namespace, ...config.pinStore },
          policy: () => policy.current(),
          logger,
        });
  const signatures = new PolicySignatures(() => policy.current(), {
    namespace: config.namespace,
    ...(kubeConfig !== undefined && {
      readObjectKey: objectKeyReader(kubeConfig, config.namespace),
    }),
  });
  // Approvals by signature move pins where they are written, as `digestpin approve` does.
  const pinStore =
    kubeConfig === undefined || config.policy.kind !== "configmap"
      ? undefined
      : new PolicyConfigMaps(
          kubeConfig,
          { namespace: config.policy.namespace, ...config.pinStore },
          config.policy.name,
        );
  const deps: AdmissionDeps = {
    policy: () => policy.current(),
    resolve: resolver.resolveNow,
    keychainFor: reviewKeychain({
      secrets: kubeConfig === undefined ? undefined : apiPullSecretSource(kubeConfig),
      pullSecrets: config.pullSecrets,
      namespace: config.namespace,
      policy: () => policy.current(),
    }),
    recordPin: async (key, record) => {
      if (recorder === undefined)
        throw new DigestpinError(
          "ERR_NO_PIN_STORE",
          "trust-on-first-use needs the policy in ConfigMaps (--policy-configmap)",
        );
      return (await recorder.record(key, record)).digest;
    },
    ...(pinStore !== undefined && {
      movePin: async (move) => {
        const pinned = await movePin(pinStore, move);
        // The Pod goes on to the validating webhook at the new digest: have the pin in force here.
        await pinInForce(() => policy.current(), move.key, pinned, MOVE_VISIBLE_MS);
        return pinned;
      },
    }),
    verifySignatures: signatures.verify,
    mutateTemplates: config.mutateTemplates,
    facts,
    ...(namespaces !== undefined && { namespaceLabels: (name: string) => namespaces.labels(name) }),
    budgetMs: config.budgetMs,
    now: Date.now,
    ...(config.policy.kind === "configmap" && {
      policyLocation: { namespace: config.policy.namespace, policy: config.policy.name },
    }),
  };
  const server = await startServer({
    host: config.host,
    port: config.port,
    metricsHost: config.metricsHost,
    metricsPort: config.metricsPort,
    certificate: secureContextOptions(tls.current()),
    deps: {
      ...deps,
      logger,
      metrics,
      ...(events !== undefined && { onJudged: driftEvents(events) }),
    },
    readiness: () =>
      policy.current() === undefined
        ? { ready: false, reason: notReadyReason(policy) }
        : { ready: true },
    drainDelayMs: config.drainDelayMs,
  });
  const scan = driftScan(config, context, kubeConfig, events, () => policy.current());
  scan?.scanner.start();
  const unsubscribe = tls.onChange((certificate) => {
    server.setCertificate(secureContextOptions(certificate));
  });
  logger.info(
    {
      version: digestpinVersion,
      url: server.url,
      metricsUrl: server.metricsUrl,
      tls: tls.mode,
      policy: config.policy,
    },
    "digestpin is serving",
  );
  return {
    server,
    policy,
    tls,
    async stop() {
      await server.close();
      unsubscribe();
      await scan?.scanner.stop();
      await Promise.all([
        scan?.close(),
        policy.stop(),
        namespaces?.stop(),
        tls.stop(),
        resolver.close(),
        facts.close(),
        signatures.close(),
      ]);
    },
  };
}

/** How long a moved pin may take to come back through the policy watch before the answer goes. */
const MOVE_VISIBLE_MS = 1_000;

/** Resolves once the policy in force pins `key` to `digest`, or after `timeoutMs`. */
async function pinInForce(
  policy: () => Policy | undefined,
  key: string,
  digest: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (policy()?.pins.get(key)?.digest !== digest && Date.now() < deadline) {
    await sleep(20);
  }
}

function policySource(
  config: ServeConfig,
  context: WebhookContext,
  kubeConfig: KubeConfig | undefined,
  events: EventRecorder | undefined,
): PolicySource {
  const { logger, metrics } = context;
  const report = policyReport(logger, metrics);
  if (config.policy.kind === "file") {
    return new FilePolicySource({
      policyFile: config.policy.file,
      pinsFiles: config.policy.pinsFiles,
      report,
    });
  }
  if (kubeConfig === undefined)
    throw new DigestpinError(
      "ERR_CONFIG",
      "the policy ConfigMap needs an API server (--kubeconfig)",
    );
  return new ConfigMapPolicySource({
    kubeConfig,
    namespace: config.policy.namespace,
    policyConfigMap: config.policy.name,
    ...(events !== undefined && { events }),
    logger,
    report,
  });
}

/** Why there is no policy in force, for /readyz and the log: the first issue, or that none came yet. */
function notReadyReason(policy: PolicySource): string {
  const [first] = policy.issues;
  if (first === undefined) return "no valid policy loaded yet";
  const more = policy.issues.length - 1;
  return `no valid policy loaded: ${formatIssue(first)}${more > 0 ? ` (and ${String(more)} more)` : ""}`;
}
