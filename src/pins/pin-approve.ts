import { isMap, isScalar, isSeq, Pair, Scalar, YAMLMap, YAMLSeq, type Node } from "yaml";
import { DigestpinError, invariantBroken } from "../errors.ts";
import type { PinHistoryEntry, PinReview } from "../policy/index.ts";
import { checkEdit, pinsOf } from "./pin-check.ts";
import { historyNode, platformsNode, recordNode, renderEntry, scalarNode } from "./pin-render.ts";
import { readPinsText, spliceLines } from "./pin-text.ts";

/** A new digest for a pinned tag, accepted by a person. */
export interface Approval {
  readonly digest: string;
  readonly pinnedAt: string;
  readonly pinnedBy: string;
  readonly reason: string;
  readonly platforms?: Readonly<Record<string, string>>;
  /** What was reviewed: kept with the replaced digest's history entry. */
  readonly review?: PinReview;
}

/**
 * Replaces the pin of `key` with the approved digest; the pin it had goes first into its
 * `history`, with replacedAt/replacedBy/replaceReason. Throws when `text` does not pin `key`.
 */
export function approvePin(text: string, key: string, approval: Approval): string {
  const old = pinsOf(text).get(key);
  const parsed = readPinsText(text);
  const entry = parsed.entries.find((e) => e.key === key);
  if (old === undefined || entry === undefined)
    throw new DigestpinError("ERR_NOT_PINNED", `${key} is not pinned here`);
  const replaced: PinHistoryEntry = {
    digest: old.digest,
    ...(old.pinnedAt !== undefined && { pinnedAt: old.pinnedAt }),
    ...(old.pinnedBy !== undefined && { pinnedBy: old.pinnedBy }),
    ...(old.reason !== undefined && { reason: old.reason }),
    replacedAt: approval.pinnedAt,
    replacedBy: approval.pinnedBy,
    replaceReason: approval.reason,
    ...(approval.review !== undefined && { review: approval.review }),
  };
  const value = entry.pair.value;
  let node: YAMLMap;
  if (isMap(value) && value.flow !== true) {
    const clone = value.clone();
    if (!isMap(clone)) throw invariantBroken("cloning a mapping");
    node = clone;
    node.comment = null; // trailing comments stay in the text, after the entry
    if (entry.keyLineComment !== "" && node.commentBefore) {
      node.commentBefore = node.commentBefore.split("\n").slice(1).join("\n") || null;
    }
    updateRecord(node, approval, replaced);
  } else {
    const { history } = old;
    node = recordNode({ ...approval, history: [replaced, ...history] });
  }
  const lines = renderEntry(key, entry.written, node, entry.indent, entry.keyLineComment);
  const edited = spliceLines(parsed.text, parsed.lines, entry.firstLine, entry.lastLine, lines);
  checkEdit(edited, [{ key, ...approval, history: [] }]);
  return edited;
}

const FIELD_ORDER = ["digest", "pinnedAt", "pinnedBy", "reason", "platforms", "history"];

function updateRecord(map: YAMLMap, approval: Approval, replaced: PinHistoryEntry): void {
  setField(map, "digest", new Scalar(approval.digest));
  setField(map, "pinnedAt", scalarNode("pinnedAt", approval.pinnedAt));
  setField(map, "pinnedBy", scalarNode("pinnedBy", approval.pinnedBy));
  setField(map, "reason", scalarNode("reason", approval.reason));
  setField(map, "platforms", platformsNode(approval.platforms));
  const history = map.get("history", true);
  if (isSeq(history)) {
    history.flow = false;
    history.items.unshift(historyNode(replaced));
  } else {
    const seq = new YAMLSeq();
    seq.items.push(historyNode(replaced));
    setField(map, "history", seq);
  }
}

/** Sets (or, with undefined, removes) `field`, keeping its place or the usual field order. */
function setField(map: YAMLMap, field: string, value: Node | undefined): void {
  const keyOf = (pair: unknown): unknown =>
    pair instanceof Pair && isScalar(pair.key) ? pair.key.value : undefined;
  const index = map.items.findIndex((pair) => keyOf(pair) === field);
  if (value === undefined) {
    if (index !== -1) map.items.splice(index, 1);
  } else if (index !== -1) {
    const pair = map.items[index];
    if (pair !== undefined) pair.value = value;
  } else {
    const rank = FIELD_ORDER.indexOf(field);
    const before = map.items.findIndex((pair) => FIELD_ORDER.indexOf(String(keyOf(pair))) > rank);
    const pair = new Pair(new Scalar(field), value);
    if (before === -1) map.items.push(pair);
    else map.items.splice(before, 0, pair);
  }
}
