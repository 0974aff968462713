import { isMap, isScalar, Scalar, YAMLMap, YAMLSeq, type Node, type Pair } from "yaml";
import { DigestpinError, invariantBroken } from "../errors.ts";
import { pinsOf } from "./pin-check.ts";
import {
  checkPolicyDocument,
  PolicyInvalidError,
  type PinHistoryEntry,
  type RemovedPin,
} from "../policy/index.ts";
import { historyNode, renderEntry } from "./pin-render.ts";
import { entryOf, readPinsText, spliceLines } from "./pin-text.ts";

/** Who removes pins, when and why: the `replaced*` of the removed digests' history entries. */
export interface Removal {
  readonly at: string;
  readonly by: string;
  readonly reason: string;
}

/**
 * `text` without the pins of `keys`, each moved to `removed` with its digest first in its
 * history (`replacedAt`/`replacedBy`/`replaceReason` say who removed it, when and why), so the
 * record of what ran stays. Every other line stays as it was. A new `removed` goes just above
 * `pins` (so a store shard keeps `pins` last). Throws ERR_NOT_PINNED for a key `text` does not pin.
 */
export function removePins(text: string, keys: readonly string[], removal: Removal): string {
  const checked = checkPolicyDocument(text, "(edited)");
  if (!checked.ok) throw new PolicyInvalidError(checked.issues);
  const records = new Map(checked.document.pins.map((pin) => [pin.key, pin]));
  const earlier = new Map(checked.document.removed.map((r) => [r.key, r.history]));
  const gone: RemovedPin[] = keys.map((key) => {
    const pin = records.get(key);
    if (pin === undefined) throw new DigestpinError("ERR_NOT_PINNED", `${key} is not pinned here`);
    const last: PinHistoryEntry = {
      digest: pin.digest,
      ...(pin.pinnedAt !== undefined && { pinnedAt: pin.pinnedAt }),
      ...(pin.pinnedBy !== undefined && { pinnedBy: pin.pinnedBy }),
      ...(pin.reason !== undefined && { reason: pin.reason }),
      replacedAt: removal.at,
      replacedBy: removal.by,
      replaceReason: removal.reason,
    };
    return { key, history: [last, ...pin.history, ...(earlier.get(key) ?? [])] };
  });
  // Entries go bottom-up, so the line numbers of those above stay right.
  const parsed = readPinsText(text);
  const doomed = parsed.entries
    .filter((entry) => entry.key !== null && keys.includes(entry.key))
    .sort((a, b) => b.firstLine - a.firstLine);
  let edited = parsed.text;
  for (const entry of doomed)
    edited = spliceLines(edited, parsed.lines, entry.firstLine, entry.lastLine, []);
  const result = withRemoved(edited, gone);
  const after = pinsOf(result);
  if (keys.some((key) => after.has(key))) throw invariantBroken("removing pins failed");
  return result;
}

/**
 * `text` without the entries of `keys` in its `pins` (moved elsewhere: `pins migrate`); every
 * other line stays as it was. Keys it does not pin are ignored.
 */
export function dropPins(text: string, keys: readonly string[]): string {
  const parsed = readPinsText(text);
  const wanted = new Set(keys);
  // Bottom-up, so the line numbers of the entries above stay right.
  const doomed = parsed.entries
    .filter((entry) => entry.key !== null && wanted.has(entry.key))
    .sort((a, b) => b.firstLine - a.firstLine);
  let edited = parsed.text;
  for (const entry of doomed) {
    edited = spliceLines(edited, parsed.lines, entry.firstLine, entry.lastLine, []);
  }
  if (doomed.length > 0 && readPinsText(edited).blockMap === undefined) {
    // The last entry went: `pins:` with nothing under it reads as null; keep it a mapping.
    edited = edited.replace(/^pins:[ \t]*$/m, "pins: {}");
  }
  return edited;
}

/** `text` with `gone` in its `removed` (an entry there for the same key is replaced). */
function withRemoved(text: string, gone: readonly RemovedPin[]): string {
  const parsed = readPinsText(text);
  const root = parsed.doc.contents;
  const items = isMap(root) ? (root.items as Pair<Node, Node | null>[]) : [];
  const removedPair = items.find((p) => isScalar(p.key) && p.key.value === "removed");
  const map = new YAMLMap();
  const replaced = new Set(gone.map((r) => r.key));
  if (isMap(removedPair?.value)) {
    for (const pair of removedPair.value.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : "";
      if (!replaced.has(key)) map.items.push(pair);
    }
  }
  for (const removed of gone)
    map.add({ key: new Scalar(removed.key), value: removedNode(removed) });
  if (removedPair !== undefined) {
    const entry = entryOf(parsed.text, parsed.lines, removedPair);
    const lines = renderEntry("removed", entry.written, map, entry.indent, entry.keyLineComment);
    return spliceLines(parsed.text, parsed.lines, entry.firstLine, entry.lastLine, lines);
  }
  const lines = renderEntry("removed", undefined, map, 0);
  const pins =
    parsed.pinsPair === undefined ? undefined : entryOf(parsed.text, parsed.lines, parsed.pinsPair);
  const at = pins?.firstLine ?? parsed.text.split("\n").length;
  return spliceLines(parsed.text, parsed.lines, at, at - 1, lines);
}

function removedNode(removed: RemovedPin): YAMLMap {
  const history = new YAMLSeq();
  for (const entry of removed.history) history.items.push(historyNode(entry));
  const map = new YAMLMap();
  map.add({ key: new Scalar("history"), value: history });
  return map;
}
