import type { Metrics } from "../observability/metrics.ts";
import { silentLogger, type Logger } from "../observability/logger.ts";
import { formatIssue, type PolicyIssue } from "./issues.ts";
import type { Policy } from "./policy.ts";
import type { PolicyListener } from "./source.ts";

export interface PolicyHolderOptions {
  readonly metrics?: Metrics | undefined;
  readonly logger?: Logger | undefined;
}

/**
 * The policy in force and its generation, shared by every PolicySource: a new policy is swapped
 * in with one assignment (readers see the old or the new one, never a mix); a rejected change
 * keeps it, logs every issue and sets the metrics.
 */
export class PolicyHolder {
  #policy: Policy | undefined;
  #generation = 0;
  #issues: readonly PolicyIssue[] = [];
  readonly #listeners = new Set<PolicyListener>();
  readonly #metrics: Metrics | undefined;
  readonly #logger: Logger;

  constructor(options: PolicyHolderOptions = {}) {
    this.#metrics = options.metrics;
    this.#logger = options.logger ?? silentLogger();
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
    this.#metrics?.policyGeneration.set(this.#generation);
    this.#metrics?.policyValid.set(1);
    this.#metrics?.policyPins.set(policy.pins.size);
    this.#logger.info(
      { generation: this.#generation, pins: policy.pins.size, sources: policy.sources },
      `policy generation ${this.#generation} in force`,
    );
    for (const listener of this.#listeners) {
      try {
        listener(policy, this.#generation);
      } catch (error) {
        this.#logger.error({ err: error }, "a policy change listener failed");
      }
    }
  }

  /** Keeps the policy in force and reports why the change was rejected. */
  reject(issues: readonly PolicyIssue[]): void {
    this.#issues = issues;
    this.#metrics?.policyValid.set(0);
    this.#metrics?.policyErrors.inc();
    for (const issue of issues) {
      const { source, line, column, path } = issue;
      this.#logger.error({ policyIssue: { source, line, column, path } }, formatIssue(issue));
    }
    const kept =
      this.#policy === undefined
        ? "there is no valid policy yet: the webhook is not ready"
        : `policy generation ${this.#generation} stays in force`;
    this.#logger.error(
      { generation: this.#generation, issues: issues.length },
      `invalid policy change rejected (${issues.length} ${issues.length === 1 ? "issue" : "issues"}); ${kept}`,
    );
  }
}
