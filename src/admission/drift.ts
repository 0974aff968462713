import type { Decision, Drift } from "../policy/index.ts";

/** What admission did with a moved tag: the label of the drift counter, and the Event's verb. */
export type DriftAction = "denied" | "admitted-at-pin" | "admitted-unchanged";

export const DRIFT_ACTIONS: readonly DriftAction[] = [
  "denied",
  "admitted-at-pin",
  "admitted-unchanged",
];

/**
 * The drift a decision is about and what was done with it, or undefined when its tag did not
 * move. Denied; admitted at the pin (a controller's object, `drift: warn`; a template whose
 * Pods will be); or admitted unchanged (`mode: warn` or `audit` let the new digest in).
 */
export function driftOf(decision: Decision): { drift: Drift; action: DriftAction } | undefined {
  const { drift } = decision;
  if (drift === undefined) return undefined;
  const action =
    decision.action === "deny"
      ? "denied"
      : decision.action === "allow" && decision.wouldDeny
        ? "admitted-unchanged"
        : "admitted-at-pin";
  return { drift, action };
}
