import { stringify } from "yaml";
import type { RegistryConfig } from "../../src/registry/registry-config.ts";

/** A pin as the policy's long form writes it. */
export interface PinFields {
  readonly digest: string;
  readonly pinnedAt?: string;
  readonly pinnedBy?: string;
  readonly reason?: string;
}

/** The settings and pins of a policy document (docs/policy.md), for the e2e tests. */
export interface PolicyInput {
  readonly mode?: "enforce" | "warn" | "audit";
  readonly unpinned?: "deny" | "trust-on-first-use" | "resolve" | "allow";
  readonly drift?: "deny" | "warn";
  readonly controllerPods?: "use-pin" | "strict";
  readonly registryUnavailable?: "use-pin" | "deny";
  readonly rewrite?: "tag-and-digest" | "digest" | "none";
  /**
   * Default `0s`: the tests move tags and expect the next review to see it, where a cluster
   * would see it within the default 30 s.
   */
  readonly cacheTTL?: string;
  readonly registries: readonly RegistryConfig[];
  readonly exempt?: {
    readonly namespaces?: readonly string[];
    readonly images?: readonly string[];
  };
  readonly pins?: Readonly<Record<string, string | PinFields>>;
  /** `namespaces` rules, as the policy writes them. */
  readonly namespaces?: readonly Record<string, unknown>[];
  /** `signatures` rules and `approvals`, as the policy writes them (docs/signatures.md). */
  readonly signatures?: readonly Record<string, unknown>[];
  readonly approvals?: Record<string, unknown>;
  /** `driftScan`, as the policy writes it (docs/drift.md). */
  readonly driftScan?: { readonly interval?: string; readonly concurrency?: number };
}

/** The policy ConfigMap's `policy.yaml`: settings in the documented order, then the pins. */
export function policyYaml(input: PolicyInput): string {
  const document = {
    apiVersion: "digestpin.dev/v1alpha1",
    kind: "Policy",
    mode: input.mode ?? "enforce",
    unpinned: input.unpinned ?? "deny",
    ...(input.drift !== undefined && { drift: input.drift }),
    ...(input.controllerPods !== undefined && { controllerPods: input.controllerPods }),
    ...(input.registryUnavailable !== undefined && {
      registryUnavailable: input.registryUnavailable,
    }),
    ...(input.rewrite !== undefined && { rewrite: input.rewrite }),
    cacheTTL: input.cacheTTL ?? "0s",
    registries: input.registries.map(({ host, ...rest }) => ({ host, ...rest })),
    ...(input.exempt !== undefined && { exempt: input.exempt }),
    ...(input.namespaces !== undefined && { namespaces: input.namespaces }),
    ...(input.signatures !== undefined && { signatures: input.signatures }),
    ...(input.approvals !== undefined && { approvals: input.approvals }),
    ...(input.driftScan !== undefined && { driftScan: input.driftScan }),
    pins: { ...input.pins },
  };
  return stringify(document, { lineWidth: 0 });
}
