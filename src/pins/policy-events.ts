import type { V1ConfigMap } from "@kubernetes/client-node";
import { configMapSubject, type EventRecorder } from "../kube/index.ts";
import { configMapSource, formatIssue, type PolicyIssue } from "../policy/index.ts";

export const INVALID_POLICY_REASON = "InvalidPolicy";

/**
 * Tells people about a rejected policy change where they look: a Warning Event (reason
 * InvalidPolicy) on each ConfigMap an issue names, with that ConfigMap's issues; when no issue
 * names one, on the ConfigMaps that just changed, with every issue. The same message about the
 * same version of a ConfigMap is recorded once.
 */
export class InvalidPolicyReporter {
  readonly #reported = new Set<string>();

  constructor(
    private readonly events: EventRecorder,
    private readonly namespace: string,
  ) {}

  report(
    issues: readonly PolicyIssue[],
    configMaps: readonly V1ConfigMap[],
    changed: readonly V1ConfigMap[],
  ): void {
    const issuesOf = (configMap: V1ConfigMap) => {
      const source = configMapSource(this.namespace, configMap.metadata?.name ?? "");
      return issues.filter((issue) => issue.source === source);
    };
    const named = configMaps.filter((configMap) => issuesOf(configMap).length > 0);
    for (const configMap of named.length > 0 ? named : changed) {
      const own = issuesOf(configMap);
      const listed = own.length > 0 ? own : issues;
      const message =
        `invalid policy change rejected; the policy in force is kept ` +
        `(${listed.length} ${listed.length === 1 ? "issue" : "issues"}):\n` +
        listed.map(formatIssue).join("\n");
      const key = `${configMap.metadata?.name ?? ""}@${configMap.metadata?.resourceVersion ?? ""}\n${message}`;
      if (this.#reported.has(key)) continue;
      if (this.#reported.size >= 1000) this.#reported.clear();
      this.#reported.add(key);
      void this.events.warning(configMapSubject(configMap), INVALID_POLICY_REASON, message);
    }
  }
}
