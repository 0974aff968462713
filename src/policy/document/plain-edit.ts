// A document whose pins are read line by line (a large policy file, a pins ConfigMap), read
// again after an edit by the pins the edit touched: the rest of it, and every other pin, are
// as they were.
import { checkDocumentKeepingBlock, type DocumentResult, type ParseOptions } from "./document.ts";
import { mayHoldSeveralDocuments } from "./file-documents.ts";
import { readPlainPins } from "./plain-pins.ts";
import { checkPolicyFile, type CheckedFile } from "./policy-file.ts";
import { plainPinRecords } from "./read-pins.ts";
import type { DocumentKind, ParsedDocument, PinRecord } from "./schema.ts";

/**
 * A valid document, as checked, with where each of its pins is: what its next version can be
 * read from by the lines that changed (editPlainDocument). Owned by the one who read it: an
 * edit changes its arrays and key set in place (it is used up).
 */
export interface PlainDocument {
  readonly source: string;
  readonly expect: DocumentKind;
  readonly text: string;
  readonly document: ParsedDocument;
  /** The document's pins, in its order; their origins may name the lines they had. */
  readonly records: PinRecord[];
  /** Where each pin's key line starts, and its 1-based line, in the order of `records`. */
  readonly starts: number[];
  readonly lines: number[];
  readonly keys: Set<string>;
  /** The line of `pins:`, and where the block's lines start and end. */
  readonly keyLine: number;
  readonly start: number;
  readonly end: number;
  readonly indent: number;
}

/** An edit read by its lines: the document as it is now, and the pins it replaced and wrote. */
export interface PlainEdit {
  readonly plain: PlainDocument;
  readonly removed: readonly PinRecord[];
  readonly added: readonly PinRecord[];
}

/**
 * checkPolicyDocument, and, when the document is valid and its pins were read line by line,
 * what its next edit can be read from.
 */
export function checkPlainDocument(
  text: string,
  source: string,
  options: ParseOptions & { readonly expect: DocumentKind },
): { readonly result: DocumentResult; readonly plain?: PlainDocument } {
  const { result, block } = checkDocumentKeepingBlock(text, source, options);
  if (!result.ok || block === undefined) return { result };
  const plain: PlainDocument = {
    source,
    expect: options.expect,
    text,
    document: result.document,
    records: [...result.document.pins],
    starts: [...block.starts],
    lines: block.pins.map((pin) => pin.line),
    keys: new Set(result.document.pins.map((pin) => pin.key)),
    keyLine: block.keyLine,
    start: block.start,
    end: block.end,
    indent: block.indent,
  };
  return { result, plain };
}

/**
 * checkPolicyFile, and, when the file is one valid document whose pins were read line by line,
 * what its next edit can be read from.
 */
export function checkPlainFile(
  file: string,
  text: string,
  first: boolean,
  options: Pick<ParseOptions, "pinKeys"> = {},
): { readonly checked: CheckedFile; readonly plain?: PlainDocument } {
  if (mayHoldSeveralDocuments(text))
    return { checked: checkPolicyFile({ file, text }, first, options) };
  // One document, read whole (as checkPolicyFile reads it: the file's name, its own lines).
  const { result, plain } = checkPlainDocument(text, file, { ...options, expect: expectOf(first) });
  return { checked: checkedFile(result, first), ...(plain !== undefined && { plain }) };
}

/** A file's one document sorted as checkPolicyFile sorts it. */
export function checkedFile(result: DocumentResult, first: boolean): CheckedFile {
  const isPolicy = result.ok ? result.document.kind === "Policy" : first;
  return isPolicy ? { policies: [result], pins: [] } : { policies: [], pins: [result] };
}

function expectOf(first: boolean): DocumentKind {
  return first ? "Policy" : "Pins";
}

/**
 * The document `before` became by `text`, read by the pins the change touched, or undefined
 * when it must be read whole (checkPlainDocument, checkPlainFile): a change outside the pins
 * block, a line the block would not read line by line or that could start another document,
 * an invalid pin, a key pinned twice. What it gives equals what reading `text` whole gives,
 * but for the origins of pins after the change, which keep the lines they had (the property
 * suite holds the two to this).
 */
export function editPlainDocument(
  before: PlainDocument,
  text: string,
  options: Pick<ParseOptions, "pinKeys"> = {},
): PlainEdit | undefined {
  const old = before.text;
  const { starts } = before;
  const first = starts[0];
  if (first === undefined) return undefined;
  const p = commonPrefix(old, text);
  const suffix = commonSuffix(old, text, Math.min(old.length, text.length) - p);
  const changedTo = old.length - suffix;
  if (p < first || changedTo > before.end) return undefined;
  // The pins touched: from the last to start at or before the change, to the last to start in it.
  const i = lastAtOrBefore(starts, p);
  const j = lastAtOrBefore(starts, changedTo - 1);
  const from = starts[i] ?? first;
  const to = starts[j + 1] ?? before.end;
  const delta = text.length - old.length;
  const region = text.slice(from, to + delta);
  if (mayHoldSeveralDocuments(`\n${region}`)) return undefined;
  // The region read as the block of the document's rest: it must be that block, all of it.
  const head = old.slice(0, before.start);
  const block = readPlainPins(head + region + old.slice(before.end));
  if (block?.start !== before.start || block.end !== before.start + region.length) return undefined;
  if (block.pins.length > 0 && block.indent !== before.indent) return undefined;
  const read = plainPinRecords(block.pins, before.source, options.pinKeys);
  if (read === undefined) return undefined;
  // Lines: the region starts where pin i did.
  const shift = (before.lines[i] ?? 0) - (before.keyLine + 1);
  const added = read.map((record): PinRecord =>
    record.origin === undefined
      ? record
      : { ...record, origin: { ...record.origin, line: record.origin.line + shift } },
  );
  const removed = before.records.slice(i, j + 1);
  const gone = new Set(removed.map((record) => record.key));
  if (added.some((record) => before.keys.has(record.key) && !gone.has(record.key)))
    return undefined;

  const lineDelta = count(region, "\n") - count(old.slice(from, to), "\n");
  // The pins' places and records are changed in place: `before` is used up.
  const { keys, records, lines } = before;
  for (const key of gone) keys.delete(key);
  for (const record of added) keys.add(record.key);
  records.splice(i, j + 1 - i, ...added);
  starts.splice(i, j + 1 - i, ...block.starts.map((start) => start - before.start + from));
  lines.splice(i, j + 1 - i, ...block.pins.map((pin) => pin.line + shift));
  for (let k = i + added.length; k < starts.length; k++) {
    starts[k] = (starts[k] ?? 0) + delta;
    lines[k] = (lines[k] ?? 0) + lineDelta;
  }
  const plain: PlainDocument = {
    ...before,
    text,
    document: { ...before.document, pins: records },
    end: before.end + delta,
  };
  return { plain, removed, added };
}

/** The index of the last of `starts` (ascending) at or before `at`; 0 when none is. */
function lastAtOrBefore(starts: readonly number[], at: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if ((starts[middle] ?? 0) <= at) low = middle;
    else high = middle - 1;
  }
  return low;
}

/** Steps by which two texts are compared: long runs at once (slices share the texts' memory). */
const STEPS = [65_536, 4096, 256, 16, 1];

function commonPrefix(a: string, b: string): number {
  const limit = Math.min(a.length, b.length);
  let at = 0;
  for (const step of STEPS)
    while (at + step <= limit && a.slice(at, at + step) === b.slice(at, at + step)) at += step;
  return at;
}

/** How many characters `a` and `b` end with alike, at most `limit`. */
function commonSuffix(a: string, b: string, limit: number): number {
  let length = 0;
  for (const step of STEPS)
    while (
      length + step <= limit &&
      a.slice(a.length - length - step, a.length - length) ===
        b.slice(b.length - length - step, b.length - length)
    )
      length += step;
  return length;
}

function count(text: string, character: string): number {
  let found = 0;
  for (let at = text.indexOf(character); at !== -1; at = text.indexOf(character, at + 1)) found++;
  return found;
}
