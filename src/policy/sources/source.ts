import type { Policy } from "../decide/index.ts";
import type { PolicyIssue } from "../document/index.ts";

/** Called after a new policy took effect, with its generation. */
export type PolicyListener = (policy: Policy, generation: number) => void;

/**
 * Where the webhook gets its policy: a file (FilePolicySource) or ConfigMaps
 * (ConfigMapPolicySource in src/kube). Each change is validated and merged off to the side and
 * swapped in whole; an invalid change keeps the policy in force (see docs/policy.md).
 */
export interface PolicySource {
  /** The policy in force; undefined until a first valid policy was loaded (not ready). */
  current(): Policy | undefined;
  /** 0 before the first valid policy; one more for each policy that takes effect. */
  readonly generation: number;
  /** The problems of the latest change when it was rejected; empty when it took effect. */
  readonly issues: readonly PolicyIssue[];
  /** Calls `listener` after each swap; returns a function that unsubscribes it. */
  onChange(listener: PolicyListener): () => void;
  /** Loads the policy once (valid or not) and starts following changes. */
  start(): Promise<void>;
  /** Stops following changes; current() keeps the last policy. */
  stop(): Promise<void>;
}
