import {
  isMap,
  isScalar,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type Pair,
  type YAMLMap,
} from "yaml";
import { pinKeyOf, tryParseReference } from "../reference/index.ts";

/** One entry of `pins` as written: its canonical key and the lines it spans. */
export interface PinEntry {
  /** Canonical `registry/repository:tag`, or null for a key that is no valid tag reference. */
  readonly key: string | null;
  /** The key exactly as written, quotes included. */
  readonly written: string;
  readonly pair: Pair<Node, Node | null>;
  /** 1-based lines: the key's line and the last line with content of its value. */
  readonly firstLine: number;
  readonly lastLine: number;
  /** `# …` written after the key or a one-line value, on the key's line; "" if none. */
  readonly keyLineComment: string;
  /** Column of the key (its indentation). */
  readonly indent: number;
}

/** A policy or pins text, parsed with positions, and where its `pins` are. */
export interface PinsText {
  /** The text, ending with a newline. */
  readonly text: string;
  readonly doc: Document;
  /** The root's `pins` pair; undefined when the document has no `pins` key. */
  readonly pinsPair: Pair<Node, Node | null> | undefined;
  /** The pins mapping when it is a non-empty block mapping (entries are edited in place). */
  readonly blockMap: YAMLMap | undefined;
  readonly entries: readonly PinEntry[];
  readonly lines: LineCounter;
}

/** Parses `text` (which must be a valid policy or pins document) for editing its pins. */
export function readPinsText(written: string): PinsText {
  const text = written === "" || written.endsWith("\n") ? written : `${written}\n`;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, version: "1.2", uniqueKeys: false });
  const root = doc.contents;
  const pinsPair = isMap(root)
    ? (root.items as Pair<Node, Node | null>[]).find(
        (p) => isScalar(p.key) && p.key.value === "pins",
      )
    : undefined;
  const value = pinsPair?.value ?? null;
  const blockMap =
    isMap(value) && value.flow !== true && value.items.length > 0 ? value : undefined;
  const entries = (blockMap?.items ?? []).map((pair) =>
    entryOf(text, lines, pair as Pair<Node, Node | null>),
  );
  return { text, doc, pinsPair, blockMap, entries, lines };
}

/** Where an entry (a `pins` entry, or the `pins` pair itself) is written. */
export function entryOf(text: string, lines: LineCounter, pair: Pair<Node, Node | null>): PinEntry {
  const keyRange = pair.key.range ?? [0, 0, 0];
  const written = text.slice(keyRange[0], keyRange[1]);
  const value = isScalar(pair.value) && pair.value.value === null ? null : pair.value;
  const firstLine = lines.linePos(keyRange[0]).line;
  const end = value?.range === undefined || value.range === null ? keyRange[1] : value.range[1];
  const lastLine = lines.linePos(Math.max(keyRange[1], end - 1)).line;
  const valueOnKeyLine =
    value?.range !== undefined && value.range !== null
      ? lines.linePos(value.range[0]).line === firstLine && lastLine === firstLine
      : false;
  const tailStart = valueOnKeyLine && value?.range ? value.range[1] : keyRange[1];
  const tail = text.slice(tailStart, lineEnd(text, lines, firstLine));
  const comment = /(?:^|\s)(#.*)$/.exec(tail)?.[1] ?? "";
  const keyValue = isScalar(pair.key) ? pair.key.value : undefined;
  const parsed = typeof keyValue === "string" ? tryParseReference(keyValue) : undefined;
  const key =
    parsed?.ok === true && parsed.reference.digest === null ? pinKeyOf(parsed.reference) : null;
  return {
    key,
    written,
    pair,
    firstLine,
    lastLine,
    keyLineComment: comment.trimEnd(),
    indent: lines.linePos(keyRange[0]).col - 1,
  };
}

/** Offset just past the end of `line`'s content (before its newline). */
export function lineEnd(text: string, lines: LineCounter, line: number): number {
  const next = lines.lineStarts[line];
  return next === undefined ? text.length : next - 1;
}

/**
 * `text` with lines `first`..`last` (1-based, inclusive) replaced by `replacement` (lines,
 * without newlines); `last` = first - 1 inserts them before line `first`. `text` ends with a
 * newline (readPinsText makes sure of it).
 */
export function spliceLines(
  text: string,
  lines: LineCounter,
  first: number,
  last: number,
  replacement: readonly string[],
): string {
  const start = lines.lineStarts[first - 1] ?? text.length;
  const end = last < first ? start : (lines.lineStarts[last] ?? text.length);
  return text.slice(0, start) + replacement.map((line) => `${line}\n`).join("") + text.slice(end);
}
