// The drift scan as the webhook runs it: the scanner of src/drift wired to the policy in force,
// a resolver that never answers from a cache, and the policy's registry credentials.
import { hostname } from "node:os";
import type { KubeConfig } from "@kubernetes/client-node";
import { DriftScanner } from "../drift/index.ts";
import { apiPullSecretSource, type EventRecorder } from "../kube/index.ts";
import type { Policy } from "../policy/index.ts";
import { RegistryReader } from "../registry/index.ts";
import type { ServeConfig, WebhookContext } from "./config.ts";
import { PolicyImageFacts } from "./policy-image-facts.ts";
import { PolicyResolver } from "./policy-resolver.ts";
import { scanKeychain } from "./review-keychain.ts";

/**
 * The drift scan (docs/drift.md), with an API server only: the Lease, the report and the
 * inventory live there. Its resolver follows the policy like the webhook's but never answers
 * from a cache; its credentials are the policy's registry Secrets.
 */
export function driftScan(
  config: ServeConfig,
  context: WebhookContext,
  kubeConfig: KubeConfig | undefined,
  events: EventRecorder | undefined,
  policy: () => Policy | undefined,
): { scanner: DriftScanner; close(): Promise<void> } | undefined {
  if (kubeConfig === undefined) return undefined;
  const resolver = new PolicyResolver(policy, context.metrics, { cacheTtlMs: 0 });
  const facts = new PolicyImageFacts(policy);
  // Layers for the files of a change: a reader for the policy's registries, anew when they change.
  let reader: { key: string; reader: RegistryReader } | undefined;
  const readerFor = (): RegistryReader => {
    const registries = policy()?.settings.registries ?? undefined;
    const key = JSON.stringify(registries ?? null);
    if (reader?.key !== key) {
      void reader?.reader.close();
      reader = { key, reader: new RegistryReader({ registries }) };
    }
    return reader.reader;
  };
  const keychain = scanKeychain({
    secrets: apiPullSecretSource(kubeConfig),
    pullSecrets: false,
    namespace: config.namespace,
    policy,
  });
  const scanner = new DriftScanner({
    kubeConfig,
    namespace: config.namespace,
    identity: context.instance ?? `${hostname()}-${process.pid}`,
    pins: () => policy()?.pins,
    settings: () => {
      const current = policy();
      return current === undefined ? null : current.settings.driftScan;
    },
    registry: {
      // The whole answer: the scan reads its rate-limit headers (docs/drift.md).
      resolve: async (reference, deadline) =>
        resolver.resolve(reference, { keychain: await keychain(), deadline }),
      tree: async (name, digest, deadline) =>
        facts.tree(name, digest, { keychain: await keychain(), deadline }),
      openLayer: async (name, layer, deadline) =>
        readerFor().openBlob(name, layer.digest, {
          keychain: await keychain(),
          deadline,
          size: layer.size,
        }),
    },
    events,
    metrics: context.metrics,
    logger: context.logger,
  });
  return {
    scanner,
    close: () =>
      Promise.all([resolver.close(), facts.close(), reader?.reader.close()]).then(() => undefined),
  };
}
