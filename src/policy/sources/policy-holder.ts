import type { Policy } from "../decide/index.ts";
import type { PolicyIssue } from "../document/index.ts";
import type { PolicyListener } from "./source.ts";

/**
 * Who is told about each change a holder takes or refuses: the webhook logs it and sets its
 * metrics (webhook/policy-report.ts); the policy itself knows no log or metric.
 */
export interface PolicyReport {
  /** `policy` is in force as `generation`. */
  accepted(policy: Policy, generation: number): void;
  /** A change was refused; the policy of `generation` stays (none yet when it is 0). */
  rejected(issues: readonly PolicyIssue[], generation: number): void;
  /** A listener threw (the others were still called). */
  listenerFailed(error: unknown): void;
}

export interface PolicyHolderOptions {
  readonly report?: PolicyReport | undefined;
}

const SILENT: PolicyReport = {
  accepted: () => undefined,
  rejected: () => undefined,
  listenerFailed: () => undefined,
};

/**
 * The policy in force and its generation, shared by every PolicySource: a new policy is swapped
 * in with one assignment (readers see the old or the new one, never a mix); a rejected change
 * keeps it. Both are reported.
 */
export class PolicyHolder {
  #policy: Policy | undefined;
  #generation = 0;
  #issues: readonly PolicyIssue[] = [];
  readonly #listeners = new Set<PolicyListener>();
  readonly #report: PolicyReport;

  constructor(options: PolicyHolderOptions = {}) {
    this.#report = options.report ?? SILENT;
  }

  current(): Policy | undefined {
    return this.#policy;
  }

  get generation(): number {
    return this.#generation;
  }

  get issues(): readonly PolicyIssue[] {
    return this.#issues;
  }

  onChange(listener: PolicyListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Puts `policy` in force as the next generation. */
  accept(policy: Policy): void {
    this.#policy = policy;
    this.#generation += 1;
    this.#issues = [];
    this.#report.accepted(policy, this.#generation);
    for (const listener of this.#listeners) {
      try {
        listener(policy, this.#generation);
      } catch (error) {
        this.#report.listenerFailed(error);
      }
    }
  }

  /** Keeps the policy in force and reports why the change was rejected. */
  reject(issues: readonly PolicyIssue[]): void {
    this.#issues = issues;
    this.#report.rejected(issues, this.#generation);
  }
}
