import { isMap, isScalar, Scalar, YAMLMap, type Node } from "yaml";
import { invariantBroken } from "../errors.ts";
import type { PinRecord } from "../policy/index.ts";
import { checkEdit, pinsOf } from "./pin-check.ts";
import { emptyPinsText, recordNode, renderEntry } from "./pin-render.ts";
import { entryOf, readPinsText, spliceLines, type PinsText } from "./pin-text.ts";

/*
 * Edits of the pins in a policy.yaml or pins.yaml text (here: adding; pin-approve.ts:
 * replacing) keep the rest of it as the person wrote it: every line outside the edited entry
 * stays byte for byte (comments, order, quoting, blank lines); inside a replaced entry the key,
 * its comments and its fields' comments stay.
 */

/** What addPins did with one record. */
export type AddOutcome =
  | { readonly key: string; readonly outcome: "added"; readonly digest: string }
  /** Already pinned to that digest: nothing changed. */
  | { readonly key: string; readonly outcome: "unchanged"; readonly digest: string }
  /** Already pinned to another digest, which stays (the first pin of a tag wins). */
  | { readonly key: string; readonly outcome: "conflict"; readonly digest: string };

/**
 * Adds a pin for each record whose key `text` does not pin yet, at the end of `pins`; keys
 * already pinned (in any spelling) keep their pin, as do later records for a key earlier in
 * `records`. `text` must be YAML with a mapping at its root (else PolicyInvalidError); it is
 * parsed once, not validated as a whole (loaders do that), so adding to a large pins document
 * stays cheap.
 */
export function addPins(
  text: string,
  records: readonly PinRecord[],
): { text: string; outcomes: AddOutcome[] } {
  const parsed = readPinsText(text);
  if (parsed.doc.errors.length > 0 || !isMap(parsed.doc.contents)) {
    pinsOf(text); // throws PolicyInvalidError naming every problem
    throw invariantBroken("the document has no mapping at its root");
  }
  const existing = new Map<string, string>();
  for (const entry of parsed.entries) {
    const digest = entryDigest(entry.pair.value);
    if (entry.key !== null && digest !== undefined) existing.set(entry.key, digest);
  }
  const outcomes: AddOutcome[] = [];
  const added: PinRecord[] = [];
  for (const record of records) {
    const pinned = existing.get(record.key);
    if (pinned === undefined) {
      existing.set(record.key, record.digest);
      added.push(record);
      outcomes.push({ key: record.key, outcome: "added", digest: record.digest });
    } else {
      const outcome = pinned === record.digest ? "unchanged" : "conflict";
      outcomes.push({ key: record.key, outcome, digest: pinned });
    }
  }
  if (added.length === 0) return { text, outcomes };
  const { text: edited, appended } = insertEntries(parsed, added);
  // Appended entries are checked on their own; a rewritten `pins:` with the whole text.
  if (appended === undefined) checkEdit(edited, added);
  else
    checkEdit(`${emptyPinsText().replace("pins: {}\n", "pins:\n")}${appended.join("\n")}\n`, added);
  return { text: edited, outcomes };
}

function entryDigest(value: Node | null): string | undefined {
  const digest = isMap(value) ? value.get("digest") : isScalar(value) ? value.value : undefined;
  return typeof digest === "string" ? digest : undefined;
}

/**
 * New entries after the last pin (`appended`: their lines); a `pins:` that is empty, null or a
 * flow mapping is rewritten whole, and a document without `pins` gets one at its end.
 */
function insertEntries(
  parsed: PinsText,
  records: readonly PinRecord[],
): { text: string; appended?: string[] } {
  const { text, lines, pinsPair, entries } = parsed;
  const last = entries.at(-1);
  if (last !== undefined) {
    const appended = records.flatMap((r) =>
      renderEntry(r.key, undefined, recordNode(r), last.indent),
    );
    return { text: spliceLines(text, lines, last.lastLine + 1, last.lastLine, appended), appended };
  }
  const map = new YAMLMap();
  if (isMap(pinsPair?.value)) {
    for (const pair of pinsPair.value.items) map.items.push(pair);
  }
  for (const record of records) map.add({ key: new Scalar(record.key), value: recordNode(record) });
  if (pinsPair === undefined) {
    const rendered = renderEntry("pins", undefined, map, 0);
    const end = text.split("\n").length; // the empty line after the final newline
    return { text: spliceLines(text, lines, end, end - 1, rendered) };
  }
  const pins = entryOf(text, lines, pinsPair);
  const rendered = renderEntry("pins", pins.written, map, pins.indent, pins.keyLineComment);
  return { text: spliceLines(text, lines, pins.firstLine, pins.lastLine, rendered) };
}
