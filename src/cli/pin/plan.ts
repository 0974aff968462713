import type { EditResult, PolicySnapshot, PolicyStore, PolicyView } from "../../pins/index.ts";
import type { PinRecord, Policy } from "../../policy/index.ts";

/** What `digestpin pin` does with one tag. */
export type PinStep =
  | { readonly action: "pin"; readonly record: PinRecord }
  | { readonly action: "unchanged"; readonly key: string; readonly digest: string }
  /** Pinned to another digest: only `digestpin approve` changes a pin. */
  | {
      readonly action: "refused";
      readonly key: string;
      readonly digest: string;
      readonly pinned: PinRecord;
    };

/**
 * The steps for `records` against `policy`, in order: a new key is pinned, a key pinned at the
 * same digest is unchanged, a key pinned at another digest (by the policy, or by an earlier
 * record here) is refused. Pure.
 */
export function planPins(policy: Policy, records: readonly PinRecord[]): PinStep[] {
  const planned = new Map<string, PinRecord>();
  return records.map((record): PinStep => {
    const pinned = policy.pins.get(record.key) ?? planned.get(record.key);
    if (pinned === undefined) {
      planned.set(record.key, record);
      return { action: "pin", record };
    }
    if (pinned.digest === record.digest) {
      return { action: "unchanged", key: record.key, digest: record.digest };
    }
    return { action: "refused", key: record.key, digest: record.digest, pinned };
  });
}

/**
 * The edit of `digestpin pin`: new pins go where the store puts them (digestpin's pin store in a
 * cluster, the policy file's pins for files); pins that exist stay where they are.
 */
export function pinEdit<S extends PolicySnapshot>(
  store: PolicyStore<S>,
  records: readonly PinRecord[],
) {
  return (view: PolicyView<S>): EditResult<PinPlan> => {
    const steps = planPins(view.policy, records);
    const added = steps.flatMap((step) => (step.action === "pin" ? [step.record] : []));
    if (added.length === 0) return { changes: new Map(), result: { steps, written: [] } };
    const changes = store.placePins(view.snapshot, added);
    return { changes, result: { steps, written: [...changes.keys()] } };
  };
}

/** What `digestpin pin` did: a step per tag, and the documents it wrote the new pins into. */
export interface PinPlan {
  readonly steps: readonly PinStep[];
  readonly written: readonly string[];
}
