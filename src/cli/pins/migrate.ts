import { DigestpinError } from "../../errors.ts";
import {
  dropPins,
  editPolicy,
  type ConfigMapSnapshot,
  type EditResult,
  type PolicyConfigMaps,
  type PolicyView,
} from "../../pins/index.ts";
import { checkPolicyDocument, PolicyInvalidError, type PinRecord } from "../../policy/index.ts";

/** What `pins migrate` moved: from which ConfigMap how many pins, and into which. */
export interface Migration {
  readonly from: ReadonlyMap<string, number>;
  readonly to: readonly string[];
  /** The sources that are deleted (the legacy trust-on-first-use ConfigMap, once empty). */
  readonly deleted: readonly string[];
}

/**
 * `digestpin pins migrate`: the pins of the policy ConfigMap (and of the legacy
 * trust-on-first-use ConfigMap, and of `extra` pins ConfigMaps) move into digestpin's pin store,
 * records and histories as they are. The store is written first: an interruption leaves a pin
 * in both places at one digest (allowed), never in neither. A source left without pins that
 * digestpin owns (the legacy one) is deleted.
 */
export async function migratePins(
  store: PolicyConfigMaps,
  extra: readonly string[],
  dryRun: boolean,
): Promise<Migration> {
  return editPolicy(store, migrateEdit(store, extra), { dryRun });
}

function migrateEdit(store: PolicyConfigMaps, extra: readonly string[]) {
  return (view: PolicyView<ConfigMapSnapshot>): EditResult<Migration> => {
    const { documents } = view.snapshot;
    const isShard = (name: string): boolean => store.isShard(name);
    const sources = documents.filter(
      (d) => !isShard(d.name) && (d.kind === "Policy" || d.owned || extra.includes(d.name)),
    );
    for (const name of extra) {
      if (!documents.some((d) => d.name === name))
        throw new DigestpinError("ERR_NOT_FOUND", `${name} is not a pins ConfigMap of this policy`);
    }
    const inStore = new Set(
      documents
        .filter((d) => isShard(d.name))
        .flatMap((d) => {
          const result = checkPolicyDocument(d.text, d.name);
          return result.ok ? result.document.pins.map((pin) => pin.key) : [];
        }),
    );
    const moving: PinRecord[] = [];
    const from = new Map<string, number>();
    const drops = new Map<string, string | null>();
    const deleted: string[] = [];
    for (const source of sources) {
      const result = checkPolicyDocument(source.text, source.name);
      if (!result.ok) throw new PolicyInvalidError(result.issues);
      const { pins } = result.document;
      if (pins.length === 0) continue;
      for (const pin of pins) {
        if (!inStore.has(pin.key)) {
          inStore.add(pin.key);
          moving.push({ ...pin, history: pin.history });
        }
      }
      from.set(source.name, pins.length);
      const left = dropPins(
        source.text,
        pins.map((pin) => pin.key),
      );
      const check = checkPolicyDocument(left, source.name);
      if (!check.ok) throw new PolicyInvalidError(check.issues);
      const empty = check.document.pins.length === 0 && check.document.removed.length === 0;
      if (source.owned && source.kind === "Pins" && empty) {
        drops.set(source.name, null);
        deleted.push(source.name);
      } else {
        drops.set(source.name, left);
      }
    }
    const placed =
      moving.length === 0 ? new Map<string, string>() : store.placePins(view.snapshot, moving);
    // The store first, then the sources: never a moment without the pin.
    const changes = new Map<string, string | null>([...placed, ...drops]);
    return { changes, result: { from, to: [...placed.keys()], deleted } };
  };
}
