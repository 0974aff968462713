import type { KubernetesObjectApi } from "@kubernetes/client-node";
import { isApiException, kubeLibrary } from "../kube/index.ts";

export type WebhookConfigurationKind =
  "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration";

export interface WebhookConfigurationRef {
  readonly kind: WebhookConfigurationKind;
  readonly name: string;
}

/** What `syncCaBundle` did: nothing to do, patched, or the configuration does not exist. */
export type CaBundleSync = "unchanged" | "patched" | "missing";

/** The parts of a webhook configuration this module reads. */
interface WebhookConfiguration {
  readonly metadata?: { readonly resourceVersion?: string };
  readonly webhooks?: readonly {
    readonly name: string;
    readonly clientConfig?: { readonly caBundle?: string };
  }[];
}

const FIELD_MANAGER = "digestpin-ca-bundle";
const ATTEMPTS = 5;

/**
 * Sets `clientConfig.caBundle` of every webhook of one configuration to `caBundlePem`, and
 * nothing else: a strategic merge patch keyed by webhook name, conditional on the
 * resourceVersion read (a concurrent edit makes it read and patch again).
 */
export async function syncCaBundle(
  objects: KubernetesObjectApi,
  ref: WebhookConfigurationRef,
  caBundlePem: string,
): Promise<CaBundleSync> {
  const header = { apiVersion: "admissionregistration.k8s.io/v1", kind: ref.kind };
  const caBundle = Buffer.from(caBundlePem, "utf8").toString("base64");
  for (let attempt = 1; ; attempt++) {
    let configuration: WebhookConfiguration;
    try {
      configuration = await objects.read({ ...header, metadata: { name: ref.name } });
    } catch (error) {
      if (isApiException(error) && error.code === 404) return "missing";
      throw error;
    }
    const stale = staleWebhooks(configuration, caBundle);
    if (stale.length === 0) return "unchanged";
    const patch = {
      ...header,
      metadata: {
        name: ref.name,
        ...(configuration.metadata?.resourceVersion !== undefined && {
          resourceVersion: configuration.metadata.resourceVersion,
        }),
      },
      webhooks: stale.map((name) => ({ name, clientConfig: { caBundle } })),
    };
    try {
      await objects.patch(
        patch,
        undefined,
        undefined,
        FIELD_MANAGER,
        undefined,
        kubeLibrary().PatchStrategy.StrategicMergePatch,
      );
      return "patched";
    } catch (error) {
      const retry = isApiException(error) && error.code === 409 && attempt < ATTEMPTS;
      if (!retry) throw error;
    }
  }
}

/** Whether every webhook of `configuration` trusts exactly `caBundlePem`. */
export function caBundleInPlace(configuration: WebhookConfiguration, caBundlePem: string): boolean {
  const caBundle = Buffer.from(caBundlePem, "utf8").toString("base64");
  return staleWebhooks(configuration, caBundle).length === 0;
}

function staleWebhooks(configuration: WebhookConfiguration, caBundle: string): string[] {
  return (configuration.webhooks ?? [])
    .filter((webhook) => webhook.clientConfig?.caBundle !== caBundle)
    .map((webhook) => webhook.name);
}
