import type { ImageReference } from "../../reference/index.ts";
import type { PinRecord } from "../document/index.ts";

/** Why decide() decided as it did; also the label of metrics and logs. */
export const DECISION_REASONS = [
  "invalid-reference",
  "registry-not-allowed",
  "exempt-namespace",
  "exempt-image",
  "pinned",
  "drift",
  "registry-unavailable",
  "registry-error",
  "unpinned",
  "trust-on-first-use",
  "resolved",
  "unpinned-allowed",
  "digest-pinned",
  "digest-mismatch",
  "digest-known",
  "digest-unknown",
  "not-digest-form",
  "base-unpinned",
  "base-drifted",
  "signature-approved",
  "unsigned",
  "signature-invalid",
] as const;

export type DecisionReason = (typeof DECISION_REASONS)[number];

/** What the admission request is about, beyond the image. */
export interface DecisionContext {
  readonly namespace: string;
  /** A dry-run request: nothing may be recorded (trust-on-first-use mutates without a record). */
  readonly dryRun: boolean;
  /**
   * The object was created by a controller (an ownerReference with `controller: true`): a Pod
   * of a ReplicaSet, a ReplicaSet of a Deployment, a Job of a CronJob. Nobody can act on a
   * denial of it, so `controllerPods: use-pin` admits it at the pin instead.
   */
  readonly controlled?: boolean;
}

/** A pinned tag that moved: what it is pinned to and what the registry serves now. */
export interface Drift {
  /** Canonical `registry/repository:tag`. */
  readonly key: string;
  readonly pinned: string;
  readonly current: string;
}

/** A registry's failure to say which digest a tag has. */
export interface RegistryFailure {
  /** The resolver's error code, e.g. ERR_REGISTRY_TIMEOUT, ERR_REGISTRY_NOT_FOUND. */
  readonly code: string;
  readonly message: string;
  /**
   * True for timeouts, connection failures, 5xx and 429: the registry could not answer, and
   * `registryUnavailable` applies. False for an answer (401, 403, 404, …): a registry-error deny.
   */
  readonly unavailable: boolean;
}

/** What the registry said about a tag: the digest it serves now, or why it could not say. */
export type RegistryObservation = { readonly digest: string } | { readonly error: RegistryFailure };

interface DecisionBase {
  readonly reason: DecisionReason;
  /** The image exactly as the pod spec has it. */
  readonly input: string;
  /** The parsed reference; null only when `input` is invalid. */
  readonly reference: ImageReference | null;
  /** For people and logs: what was decided and why; for a denial also how to fix it. */
  readonly message: string;
  /** An admission warning (at most 120 characters). */
  readonly warning?: string;
  /** mode: audit only: the denial that was not enforced, for audit annotations and logs. */
  readonly audit?: string;
  /** True when mode enforce would have denied (mode warn or audit admitted it instead). */
  readonly wouldDeny: boolean;
  /** Set on every decision about a moved tag (reason `drift`), whatever was decided. */
  readonly drift?: Drift;
}

export interface AllowDecision extends DecisionBase {
  readonly action: "allow";
}

export interface DenyDecision extends DecisionBase {
  readonly action: "deny";
}

export interface MutateDecision extends DecisionBase {
  readonly action: "mutate";
  readonly reference: ImageReference;
  /** The image to write: the name as the user spelled it, the tag (per `rewrite`), `@digest`. */
  readonly image: string;
  readonly digest: string;
  /**
   * trust-on-first-use only, never on dry-run: the pin to record. It has no pinnedAt: decide()
   * reads no clock, the writer stamps the time it records the pin.
   */
  readonly record?: PinRecord;
  /**
   * A moved tag approved by signatures (never on dry-run): the pin to move, as `digestpin
   * approve` moves it (the old digest first in its history, replacedBy the signers).
   */
  readonly move?: PinMove;
}

/** A pin to move from `from` to `digest`, approved by `pinnedBy` (the signing keys). */
export interface PinMove {
  /** Canonical `registry/repository:tag`. */
  readonly key: string;
  readonly from: string;
  readonly digest: string;
  /** `signature qa (sha256:0123456789ab)`: becomes the old digest's `replacedBy`. */
  readonly pinnedBy: string;
  /** The signature digests: becomes the old digest's `replaceReason`. */
  readonly reason: string;
}

export type Decision = AllowDecision | DenyDecision | MutateDecision;

/** decide() needs to know the digest the registry serves for `key`; call again with it. */
export interface LookupRequest {
  readonly action: "lookup";
  readonly reference: ImageReference;
  /** Canonical `registry/repository:tag`, the key for a cache of registry answers. */
  readonly key: string;
}

export type DecideResult = Decision | LookupRequest;
