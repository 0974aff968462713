// Pin writes a review's decisions ask for: trust-on-first-use records and moves of pins that
// signatures approved, never on a dry-run; a write that fails or loses a race denies the image.
import type { Decision, PinMove, PinRecord } from "../policy/index.ts";
import { pinKeyOf } from "../reference/index.ts";

/** Where pins are written (the injected edges of AdmissionDeps). */
export interface PinWriters {
  /**
   * Records a trust-on-first-use pin (never called for dry-runs) and returns the digest pinned
   * for the key afterwards: ours, or an earlier writer's when it won the race. It rejects
   * with an error whose `retriable` is false when retrying the review cannot succeed.
   */
  readonly recordPin: (key: string, record: PinRecord) => Promise<string>;
  /**
   * Moves a pin whose tag moved to a digest approver keys signed (never called for dry-runs)
   * and returns the digest pinned for the key afterwards. Absent: approvals cannot be recorded.
   */
  readonly movePin?: (move: PinMove) => Promise<string>;
}

/**
 * The pin writes `decisions` ask for (first uses, then approved moves), by image: the decisions
 * that replace those of the images whose write failed or lost a race. Undefined when none is
 * asked for (a dry-run never writes): the common review then waits for nothing.
 */
export function writePins(
  decisions: readonly Decision[],
  dryRun: boolean,
  deps: PinWriters,
): Promise<Map<string, Decision>> | undefined {
  if (dryRun || !decisions.some(asksWrite)) return undefined;
  return (async () => {
    const outcome = await recordFirstUses(decisions, dryRun, deps);
    for (const [image, decision] of await moveApprovedPins(decisions, dryRun, deps))
      outcome.set(image, decision);
    return outcome;
  })();
}

function asksWrite(decision: Decision): boolean {
  return (
    decision.action === "mutate" && (decision.record !== undefined || decision.move !== undefined)
  );
}

/** Records trust-on-first-use pins; an image whose key someone else pinned first is denied. */
async function recordFirstUses(
  decisions: readonly Decision[],
  dryRun: boolean,
  deps: PinWriters,
): Promise<Map<string, Decision>> {
  const outcome = new Map<string, Decision>();
  if (dryRun) return outcome;
  await Promise.all(
    decisions.map(async (decision) => {
      if (decision.action !== "mutate" || decision.record === undefined) return;
      const key = pinKeyOf(decision.reference) ?? "";
      try {
        const pinned = await deps.recordPin(key, decision.record);
        if (pinned !== decision.digest)
          outcome.set(decision.input, lostRace(decision, key, pinned));
      } catch (error) {
        outcome.set(decision.input, unrecorded(decision, key, error));
      }
    }),
  );
  return outcome;
}

/**
 * Moves the pins that signatures approved. An image whose pin could not be moved, or that
 * someone moved elsewhere meanwhile, is denied: it is admitted only once its approval is
 * recorded, so the next Pod of the tag is admitted the same way.
 */
async function moveApprovedPins(
  decisions: readonly Decision[],
  dryRun: boolean,
  deps: PinWriters,
): Promise<Map<string, Decision>> {
  const outcome = new Map<string, Decision>();
  if (dryRun) return outcome;
  const moves = new Map<string, Promise<string>>();
  await Promise.all(
    decisions.map(async (decision) => {
      if (decision.action !== "mutate" || decision.move === undefined) return;
      const { move } = decision;
      try {
        if (deps.movePin === undefined) {
          throw new Error(
            "approvals by signature need the policy in ConfigMaps (--policy-configmap)",
          );
        }
        let moving = moves.get(move.key);
        if (moving === undefined) {
          moving = deps.movePin(move);
          moves.set(move.key, moving);
        }
        const pinned = await moving;
        if (pinned !== move.digest) {
          outcome.set(decision.input, {
            action: "deny",
            reason: "drift",
            input: decision.input,
            reference: decision.reference,
            message: `image "${decision.input}": ${move.key} was signed at ${move.digest}, but its pin changed to ${pinned} meanwhile; retry.`,
            wouldDeny: true,
          });
        }
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        outcome.set(decision.input, {
          action: "deny",
          reason: "signature-approved",
          input: decision.input,
          reference: decision.reference,
          message: `image "${decision.input}": ${move.key} moved to ${move.digest}, which ${move.pinnedBy} approved, but the pin could not be moved (${why}); retry.`,
          wouldDeny: true,
        });
      }
    }),
  );
  return outcome;
}

function lostRace(decision: Decision, key: string, pinned: string): Decision {
  const message =
    `image "${decision.input}": ${key} was just pinned to ${pinned} by another request, but the ` +
    `registry served this request another digest; the tag moved while it was first used. ` +
    `Review it with "digestpin diff ${key}".`;
  return {
    action: "deny",
    reason: "drift",
    input: decision.input,
    reference: decision.reference,
    message,
    wouldDeny: true,
  };
}

function unrecorded(decision: Decision, key: string, error: unknown): Decision {
  const why = error instanceof Error ? error.message : String(error);
  // Most failures pass (the API server was busy or away); an error may say that retrying won't.
  const retry = (error as { retriable?: boolean } | null)?.retriable === false ? "" : "; retry";
  const message = `image "${decision.input}": could not record the trust-on-first-use pin for ${key} (${why})${retry}.`;
  return {
    action: "deny",
    reason: "trust-on-first-use",
    input: decision.input,
    reference: decision.reference,
    message,
    wouldDeny: true,
  };
}
