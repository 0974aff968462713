import {
  controllerOf,
  driftOf,
  nameOf,
  type AdmissionRequest,
  type DriftAction,
  type Judged,
} from "../admission/index.ts";
import type { EventRecorder, EventSubject } from "../kube/index.ts";
import { approveCommand } from "../policy/index.ts";

/** The same drift (tag, new digest, namespace, outcome) is reported at most once in this window. */
const QUIET_MS = 10 * 60_000;
const MAX_REMEMBERED = 1000;

export const TAG_DRIFT_REASON = "TagDrift";

const OUTCOMES: Readonly<Record<DriftAction, string>> = {
  denied: "denied",
  "admitted-at-pin": "admitted at the pinned digest",
  "admitted-unchanged": "admitted unchanged (mode: warn or audit)",
};

/**
 * Turns every drift seen at admission into a Warning Event (reason `TagDrift`) where the people
 * running the workload look: on the controller that owns the object (`kubectl describe
 * replicaset`), else on the object itself, in its namespace. The message names the tag, both
 * digests, what was done and the approve command. Dry-runs record nothing (the webhook has no
 * side effects on dry-run), and a controller retrying does not flood the namespace: one Event
 * per tag, new digest, namespace and outcome every 10 minutes.
 */
export function driftEvents(
  events: Pick<EventRecorder, "warning">,
  now: () => number = Date.now,
): (request: AdmissionRequest, judged: readonly Judged[]) => void {
  const reported = new Map<string, number>();
  return (request, judged) => {
    if (request.dryRun) return;
    for (const { slot, decision } of judged) {
      const seen = driftOf(decision);
      if (seen === undefined) continue;
      const { drift, action } = seen;
      const namespace = request.namespace ?? "";
      const dedup = `${namespace}\n${drift.key}\n${drift.current}\n${action}`;
      const last = reported.get(dedup);
      if (last !== undefined && now() - last < QUIET_MS) continue;
      if (reported.size >= MAX_REMEMBERED) reported.clear();
      reported.set(dedup, now());
      const subject = subjectOf(request);
      const what = `${request.kind.kind} ${request.name ?? nameOf(request.object) ?? ""}`.trim();
      const message =
        `${drift.key} moved: pinned to ${drift.pinned}, the registry now serves ` +
        `${drift.current}. ${what} ${slot.place} was ${OUTCOMES[action]}. Review the new image ` +
        `with 'digestpin diff ${drift.key}'; to accept it run ` +
        `${approveCommand(drift.key, drift.current)}.`;
      void events.warning(subject, TAG_DRIFT_REASON, message);
    }
  };
}

/** The object's controller when it has one, else the object (which may not exist yet). */
function subjectOf(request: AdmissionRequest): EventSubject {
  const namespace = request.namespace ?? "default";
  const owner = controllerOf(request.object);
  if (owner !== undefined) return { ...owner, namespace };
  const { group, version, kind } = request.kind;
  return {
    apiVersion: group === "" ? version : `${group}/${version}`,
    kind,
    namespace,
    name: request.name ?? nameOf(request.object) ?? "",
  };
}
