import { V1ConfigMap, V1ObjectMeta } from "@kubernetes/client-node";
import type { Judged } from "../admission/respond.ts";
import type { AdmissionRequest } from "../admission/review.ts";
import type { EventRecorder } from "../kube/events.ts";

/** The same drift (tag and digest) is reported at most once in this window. */
const QUIET_MS = 10 * 60_000;
const MAX_REMEMBERED = 1000;

/**
 * Turns drift denials into Warning Events (reason `TagDrift`) on the policy ConfigMap, where the
 * people who approve pins look (`kubectl describe configmap digestpin-policy`). Dry-runs are not
 * reported, and a controller retrying a drifted Pod does not flood the namespace: one Event per
 * moved tag and digest every 10 minutes.
 */
export function driftEvents(
  events: Pick<EventRecorder, "warning">,
  policyConfigMap: { readonly namespace: string; readonly name: string },
  now: () => number = Date.now,
): (request: AdmissionRequest, judged: readonly Judged[]) => void {
  const target = Object.assign(new V1ConfigMap(), {
    metadata: Object.assign(new V1ObjectMeta(), policyConfigMap),
  });
  const reported = new Map<string, number>();
  return (request, judged) => {
    if (request.dryRun) return;
    for (const { slot, decision } of judged) {
      if (decision.action !== "deny" || decision.reason !== "drift") continue;
      const key = decision.message;
      const last = reported.get(key);
      if (last !== undefined && now() - last < QUIET_MS) continue;
      if (reported.size >= MAX_REMEMBERED) reported.clear();
      reported.set(key, now());
      const subject = `${request.kind.kind} ${request.namespace ?? ""}/${request.name ?? "(generated name)"}`;
      void events.warning(target, "TagDrift", `${subject} ${slot.place}: ${decision.message}`);
    }
  };
}
