import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

/**
 * The one source of digestpin's webhook rules, failure policies, timeouts and selectors, which
 * the Helm chart's templates read too (charts/digestpin/templates/webhooks.yaml).
 */
export const WEBHOOKS_FILE = fileURLToPath(
  new URL("../../charts/digestpin/files/webhooks.yaml", import.meta.url),
);

/** The placeholders of the file, filled in by every reader before it parses the file. */
export interface WebhookPlaceholders {
  /** The webhook's own namespace. */
  readonly RELEASE_NAMESPACE: string;
  /** The policy ConfigMap's name (in that namespace). */
  readonly POLICY_CONFIGMAP: string;
  /** The trust-on-first-use pins ConfigMap's name (in that namespace). */
  readonly AUTO_PINS_CONFIGMAP: string;
}

/** One webhook as the file holds it: a webhook of the admissionregistration.k8s.io/v1 API without clientConfig. */
export interface WebhookEntry {
  readonly name: string;
  readonly [field: string]: unknown;
}

/** The file, parsed. */
export interface WebhookFile {
  /** Webhook name → the path it is served at. */
  readonly paths: Readonly<Record<string, string>>;
  /** Rules for workload pod templates; added to the mutating webhook's with `--mutate-templates`. */
  readonly templateRules: readonly unknown[];
  readonly mutating: readonly WebhookEntry[];
  readonly validating: readonly WebhookEntry[];
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Reads files/webhooks.yaml with its placeholders replaced, as the chart's `.Files.Get` + `replace` does. */
export function readWebhookFile(placeholders: WebhookPlaceholders): WebhookFile {
  let text = readFileSync(WEBHOOKS_FILE, "utf8");
  for (const [name, value] of Object.entries(placeholders) as [string, string][]) {
    if (!DNS_SUBDOMAIN.test(value) || value.length > 253) {
      throw new Error(`${name} must be a Kubernetes object name, not ${JSON.stringify(value)}`);
    }
    text = text.replaceAll(`\${${name}}`, value);
  }
  const left = /\$\{[A-Z_]+\}/.exec(text);
  if (left !== null) throw new Error(`${WEBHOOKS_FILE}: unknown placeholder ${left[0]}`);
  const file = parse(text) as WebhookFile;
  for (const webhook of [...file.mutating, ...file.validating]) {
    if (file.paths[webhook.name] === undefined) {
      throw new Error(`${WEBHOOKS_FILE}: no entry in paths for ${webhook.name}`);
    }
  }
  return file;
}

export interface WebhookSettingsOptions {
  /**
   * The webhook's own namespace: never sent to the pod webhooks, and the only one whose policy
   * and pins ConfigMaps are sent to validate-policy.digestpin.dev.
   */
  readonly namespace: string;
  /**
   * The running webhook's base URL, `https://127.0.0.1:PORT`; each webhook's path from the file
   * (`/mutate`, `/validate`) is appended to it.
   */
  readonly url: string;
  /**
   * The CA that signed the webhook's serving certificate: PEM, or its base64 as in
   * `clientConfig.caBundle`.
   */
  readonly caBundle: string;
  /** Name of both configurations (default `digestpin`, as the chart names them). */
  readonly name?: string;
  /** The policy ConfigMap's name (default `digestpin-policy`, as `--policy-configmap`). */
  readonly policyConfigMap?: string;
  /** The trust-on-first-use pins ConfigMap's name (default `digestpin-pins-auto`). */
  readonly autoPinsConfigMap?: string;
  /** Also send workload templates to /mutate, for a webhook run with `--mutate-templates`. */
  readonly mutateTemplates?: boolean;
}

export interface UrlWebhook extends WebhookEntry {
  readonly clientConfig: { readonly url: string; readonly caBundle: string };
}

export interface WebhookConfiguration<Kind extends string> {
  readonly apiVersion: "admissionregistration.k8s.io/v1";
  readonly kind: Kind;
  readonly metadata: { readonly name: string };
  readonly webhooks: UrlWebhook[];
}

export interface WebhookSettings {
  readonly mutating: WebhookConfiguration<"MutatingWebhookConfiguration">;
  readonly validating: WebhookConfiguration<"ValidatingWebhookConfiguration">;
  /** The webhooks' timeoutSeconds, for `digestpin serve --timeout-seconds` (as the chart passes it). */
  readonly timeoutSeconds: number;
}

/**
 * digestpin's MutatingWebhookConfiguration and ValidatingWebhookConfiguration for a webhook
 * reached by URL: exactly the chart's webhooks (files/webhooks.yaml), with `clientConfig.url`
 * and `caBundle` instead of the chart's Service. Create both; delete them to stop enforcing.
 */
export function webhookSettings(options: WebhookSettingsOptions): WebhookSettings {
  const file = readWebhookFile({
    RELEASE_NAMESPACE: options.namespace,
    POLICY_CONFIGMAP: options.policyConfigMap ?? "digestpin-policy",
    AUTO_PINS_CONFIGMAP: options.autoPinsConfigMap ?? "digestpin-pins-auto",
  });
  const base = new URL(options.url);
  if (base.protocol !== "https:" || base.search !== "" || base.hash !== "") {
    throw new Error(`url must be an https:// base URL without query or fragment: ${options.url}`);
  }
  const prefix = base.href.replace(/\/+$/, "");
  const caBundle = caBundleOf(options.caBundle);
  const withClient = (webhook: WebhookEntry): UrlWebhook => ({
    ...webhook,
    clientConfig: { url: `${prefix}${file.paths[webhook.name]!}`, caBundle },
  });
  const mutating = file.mutating.map((webhook) =>
    webhook.name === "mutate.digestpin.dev" && options.mutateTemplates === true
      ? { ...webhook, rules: [...(webhook.rules as unknown[]), ...file.templateRules] }
      : webhook,
  );
  const name = options.name ?? "digestpin";
  const timeouts = new Set([...file.mutating, ...file.validating].map((w) => w.timeoutSeconds));
  const [timeoutSeconds] = timeouts;
  if (timeouts.size !== 1 || typeof timeoutSeconds !== "number") {
    throw new Error(`${WEBHOOKS_FILE}: the webhooks must share one timeoutSeconds`);
  }
  return {
    timeoutSeconds,
    mutating: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata: { name },
      webhooks: mutating.map(withClient),
    },
    validating: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name },
      webhooks: file.validating.map(withClient),
    },
  };
}

/** `clientConfig.caBundle`: base64 of the PEM, whichever of the two was given. */
function caBundleOf(given: string): string {
  if (given.includes("-----BEGIN CERTIFICATE-----")) return Buffer.from(given).toString("base64");
  if (Buffer.from(given, "base64").toString("utf8").includes("-----BEGIN CERTIFICATE-----")) {
    return given;
  }
  throw new Error("caBundle must be a PEM certificate, or the base64 of one");
}
