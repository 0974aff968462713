import {
  editPolicy,
  removePins,
  type EditResult,
  type PolicySnapshot,
  type PolicyStore,
  type PolicyView,
  type Removal,
} from "../../pins/index.ts";
import { DigestpinError } from "../../errors.ts";
import { notOurs } from "../pin/approve.ts";

/**
 * `digestpin pins remove KEY…`: the pins are no longer in force; each digest stays in the pin's
 * `removed` history with who removed it, when and why. Only pins digestpin keeps can be removed
 * (its pin store, or the files it was given); a pin in the policy ConfigMap is removed in Git.
 */
export async function removePinsFrom<S extends PolicySnapshot>(
  store: PolicyStore<S>,
  keys: readonly string[],
  removal: Removal,
  dryRun: boolean,
): Promise<readonly string[]> {
  return editPolicy(store, removeEdit<S>(keys, removal), { dryRun });
}

function removeEdit<S extends PolicySnapshot>(keys: readonly string[], removal: Removal) {
  return (view: PolicyView<S>): EditResult<string[]> => {
    const byDocument = new Map<string, string[]>();
    for (const key of keys) {
      const holders = view.holders(key);
      if (holders.length === 0) {
        throw new DigestpinError("ERR_NOT_PINNED", `${key} is not pinned`);
      }
      const foreign = holders.find((d) => d.managedBy !== undefined);
      if (foreign !== undefined) throw notOurs(key, foreign);
      for (const holder of holders) {
        byDocument.set(holder.name, [...(byDocument.get(holder.name) ?? []), key]);
      }
    }
    const changes = new Map<string, string>();
    for (const [name, removed] of byDocument) {
      const document = view.snapshot.documents.find((d) => d.name === name);
      if (document !== undefined) changes.set(name, removePins(document.text, removed, removal));
    }
    return { changes, result: [...changes.keys()] };
  };
}
