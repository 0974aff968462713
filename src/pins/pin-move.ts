import { DigestpinError } from "../errors.ts";
import type { PinMove } from "../policy/index.ts";
import { approvePin } from "./pin-approve.ts";
import { editPolicy, type PolicySnapshot, type PolicyStore } from "./policy-store.ts";
import { rfc3339 } from "./time.ts";

/**
 * Moves the pin of `move.key` from `move.from` to `move.digest` where it is written, as
 * `digestpin approve` does: the old digest goes first into its history with replacedAt,
 * replacedBy (the signers) and replaceReason (the signatures). Returns the digest pinned for
 * the key afterwards: `move.digest`, or another one when the pin changed meanwhile (then
 * nothing is written). Only pins in digestpin's own documents (its pin store) are moved.
 */
export async function movePin<S extends PolicySnapshot>(
  store: PolicyStore<S>,
  move: PinMove,
  now: Date = new Date(),
): Promise<string> {
  const approval = {
    digest: move.digest,
    pinnedAt: rfc3339(now),
    pinnedBy: move.pinnedBy,
    reason: move.reason,
  };
  return editPolicy(store, (view) => {
    const old = view.policy.pins.get(move.key);
    if (old === undefined) {
      throw new DigestpinError("ERR_NOT_PINNED", `${move.key} is no longer pinned`);
    }
    if (old.digest !== move.from) return { changes: new Map(), result: old.digest };
    const holders = view.holders(move.key);
    // The webhook writes its pin store only (its RBAC allows no more): never the policy
    // ConfigMap, never a ConfigMap that Helm, GitOps or a team keeps.
    const foreign = holders.find((document) => !document.owned);
    if (foreign !== undefined) {
      const who = foreign.managedBy === undefined ? "" : `, which ${foreign.managedBy} manages`;
      throw new DigestpinError(
        "ERR_PIN_NOT_OURS",
        `${move.key} is pinned in ${foreign.name}${who}, and approvals by signature move pins in digestpin's pin store only; move it there with 'digestpin pins migrate', or approve with 'digestpin approve'`,
      );
    }
    const changes = new Map(
      holders.map((document) => [document.name, approvePin(document.text, move.key, approval)]),
    );
    return { changes, result: move.digest };
  });
}
