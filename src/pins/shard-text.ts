import type { PinRecord } from "../policy/index.ts";
import { emptyPinsText, recordNode, renderEntry } from "./pin-render.ts";
import { SHARD_HEADER } from "./store-layout.ts";

/*
 * The text of a store shard is digestpin's own: its header, `kind: Pins` and `pins:` last, one
 * entry per pin at two spaces. New pins are appended at the end without reading the rest with
 * yaml (trust-on-first-use writes in the webhook, where a 700 KiB parse would stall reviews);
 * approvals and removals edit it like any document (pin-approve.ts, pin-remove.ts).
 */

/** A new, empty shard. */
export function emptyShardText(): string {
  return emptyPinsText(SHARD_HEADER).replace("pins: {}\n", "pins:\n");
}

/** The lines of `records` as entries of `pins` (two spaces in), each ending with a newline. */
export function shardEntries(records: readonly PinRecord[]): string {
  return records.map(shardEntry).join("");
}

/**
 * One entry. A record of a digest and who/when/why (what trust-on-first-use and `pin` write)
 * is written directly, as recordNode would render it; anything more goes through yaml.
 */
function shardEntry(record: PinRecord): string {
  const simple =
    PLAIN_KEY.test(record.key) && record.history.length === 0 && record.platforms === undefined;
  if (!simple) return `${renderEntry(record.key, undefined, recordNode(record), 2).join("\n")}\n`;
  let entry = `  ${record.key}:\n    digest: ${record.digest}\n`;
  if (record.pinnedAt !== undefined) entry += `    pinnedAt: ${JSON.stringify(record.pinnedAt)}\n`;
  if (record.pinnedBy !== undefined) entry += `    pinnedBy: ${scalar(record.pinnedBy)}\n`;
  if (record.reason !== undefined) entry += `    reason: ${scalar(record.reason)}\n`;
  return entry;
}

/** Canonical pin keys are plain YAML scalars: no indicator first, no `: ` or ` #` inside. */
const PLAIN_KEY = /^[a-z0-9][a-z0-9._/:@-]*$/;
/** A value YAML reads back as this very string when written plain. */
const PLAIN_VALUE = /^[A-Za-z(_/][A-Za-z0-9 ()_./@+=,;!?'-]*[A-Za-z0-9()_./@+=;!?'-]$/;
const NOT_A_STRING = /^(?:true|false|null|yes|no|on|off|~)$/i;

/** `value` plain when YAML reads it back unchanged, else double-quoted (JSON is valid YAML). */
function scalar(value: string): string {
  return PLAIN_VALUE.test(value) && !NOT_A_STRING.test(value) ? value : JSON.stringify(value);
}

/**
 * `text` with `records` appended to its pins, when it is a shard in digestpin's own layout
 * (`pins:` its last top-level key, in block style or empty); otherwise undefined, and the
 * caller edits it the careful way (addPins).
 */
export function appendToShard(text: string, records: readonly PinRecord[]): string | undefined {
  const at = text.lastIndexOf("\npins:");
  const tail = at === -1 ? "" : text.slice(at + "\npins:".length);
  const rest = tail.startsWith("\n") ? tail.slice(1) : tail;
  const blockOrEmpty = tail === "" || tail === "\n" || (tail.startsWith("\n") && isBlock(rest));
  if (at === -1 || !blockOrEmpty) return undefined;
  const body = text.endsWith("\n") ? text : `${text}\n`;
  return body + shardEntries(records);
}

/** Every line indented (the entries of the last top-level key), none at column 0. */
function isBlock(rest: string): boolean {
  return !/^[^ \n#]/m.test(rest);
}

/**
 * The pins of a shard's text as digestpin writes it (`  KEY:` then `    digest: …`, or
 * `  KEY: sha256:…`), key → digest, read in one pass over the text without yaml.
 */
export function shardPins(text: string): Map<string, string> {
  const pins = new Map<string, string>();
  const entry =
    /\n {2}([^\s#][^\n]*?):(?: (sha256:[0-9a-f]{64}))?\n(?: {4}digest: (sha256:[0-9a-f]{64}))?/g;
  for (let match = entry.exec(text); match !== null; match = entry.exec(text)) {
    const digest = match[2] ?? match[3];
    if (match[1] !== undefined && digest !== undefined) pins.set(match[1], digest);
    entry.lastIndex -= 1; // the next entry's leading newline
  }
  return pins;
}
