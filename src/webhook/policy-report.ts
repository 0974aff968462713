import type { Logger } from "../observability/index.ts";
import type { Metrics } from "../observability/index.ts";
import { formatIssue, type PolicyReport } from "../policy/index.ts";

/**
 * A policy source's changes as the webhook reports them: a log line per generation and per
 * issue of a refused change, and the policy metrics (generation, valid, pins, load errors).
 */
export function policyReport(logger: Logger, metrics?: Metrics): PolicyReport {
  return {
    accepted(policy, generation) {
      metrics?.policyGeneration.set(generation);
      metrics?.policyValid.set(1);
      metrics?.policyPins.set(policy.pins.size);
      logger.info(
        { generation, pins: policy.pins.size, sources: policy.sources },
        `policy generation ${String(generation)} in force`,
      );
    },
    rejected(issues, generation) {
      metrics?.policyValid.set(0);
      metrics?.policyErrors.inc();
      for (const issue of issues) {
        const { source, line, column, path } = issue;
        logger.error({ policyIssue: { source, line, column, path } }, formatIssue(issue));
      }
      const kept =
        generation === 0
          ? "there is no valid policy yet: the webhook is not ready"
          : `policy generation ${String(generation)} stays in force`;
      logger.error(
        { generation, issues: issues.length },
        `invalid policy change rejected (${String(issues.length)} ${issues.length === 1 ? "issue" : "issues"}); ${kept}`,
      );
    },
    listenerFailed(error) {
      logger.error({ err: error }, "a policy change listener failed");
    },
  };
}
