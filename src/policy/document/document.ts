import { isMap, LineCounter, parseDocument, type Node } from "yaml";
import { quote } from "../../errors.ts";
import { PolicyInvalidError, type PolicyIssue } from "./issues.ts";
import { readPlainPins, type PlainPinsBlock } from "./plain-pins.ts";
import { plainPinRecords, readPins, readRemoved } from "./read-pins.ts";
import { readSettings, SETTING_KEYS } from "./read-settings.ts";
import {
  API_VERSION,
  type DocumentKind,
  type ParsedDocument,
  type PinRecord,
  type PinsDocument,
  type PolicyDocument,
} from "./schema.ts";
import { yamlProblem } from "./yaml-errors.ts";
import { unknownKey, YamlReader, type Entry } from "./yaml-reader.ts";

export interface ParseOptions {
  /** The kind the caller needs (the policy ConfigMap: Policy; a pins ConfigMap: Pins). */
  readonly expect?: DocumentKind;
  /** false: read the pins with yaml too, never line by line (to compare the two roads). */
  readonly plainPins?: boolean;
  /**
   * Pin keys as written → canonical (null: not a pin key), kept by a caller that reads the same
   * pins again and again (the parse worker): each distinct key is parsed once.
   */
  readonly pinKeys?: Map<string, string | null>;
}

export type DocumentResult =
  | { readonly ok: true; readonly document: ParsedDocument }
  | { readonly ok: false; readonly issues: readonly PolicyIssue[] };

const KINDS: readonly DocumentKind[] = ["Policy", "Pins"];
const HEADER_KEYS = ["apiVersion", "kind"];
const POLICY_KEYS: readonly string[] = [...HEADER_KEYS, ...SETTING_KEYS, "pins", "removed"];
const PINS_KEYS: readonly string[] = [...HEADER_KEYS, "pins", "removed"];

/**
 * Parses and validates a policy.yaml (`kind: Policy`) or pins.yaml (`kind: Pins`) document.
 * `sourceName` (a file name, `configmap NAMESPACE/NAME`) starts every issue. Every problem is
 * reported, each with its YAML path and line:column. Pure: no I/O, no clock.
 *
 * Large pin sets take a faster road to the same result: when the `pins` block is in a plain
 * shape (plain-pins.ts), yaml reads the rest of the document and the pins are read line by
 * line. If the rest or any pin is not valid, yaml reads the whole document, so every message
 * is the one yaml's reading gives.
 */
export function checkPolicyDocument(
  text: string,
  sourceName: string,
  options: ParseOptions = {},
): DocumentResult {
  return checkDocumentKeepingBlock(text, sourceName, options).result;
}

/**
 * checkPolicyDocument, and the pins block it read line by line when that is how the document
 * was read (valid): what an edit of the block can be read again from (plain-edit.ts).
 */
export function checkDocumentKeepingBlock(
  text: string,
  sourceName: string,
  options: ParseOptions = {},
): { readonly result: DocumentResult; readonly block?: PlainPinsBlock } {
  const block = options.plainPins === false ? undefined : readPlainPins(text);
  const records = block && plainPinRecords(block.pins, sourceName, options.pinKeys);
  if (block !== undefined && records !== undefined) {
    const plain = { keyLine: block.keyLine, records };
    const result = readDocument(block.rest, sourceName, options, plain);
    if (result.ok) return { result, block };
  }
  return { result: readDocument(text, sourceName, options) };
}

/** Pins read line by line, and the line of the `pins:` key the rest of the document has. */
interface PlainPins {
  readonly keyLine: number;
  readonly records: PinRecord[];
}

/**
 * checkPolicyDocument with yaml; with `plain`, the pins are those, and the document must have
 * an empty `pins:` at `plain.keyLine` in a block mapping (else not ok: `plain` does not fit).
 */
function readDocument(
  text: string,
  sourceName: string,
  options: ParseOptions,
  plain?: PlainPins,
): DocumentResult {
  const lines = new LineCounter();
  const document = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    version: "1.2",
    // yaml's own check is quadratic in the number of keys; YamlReader.entries checks instead.
    uniqueKeys: false,
  });
  const reader = new YamlReader(sourceName, document, lines);
  if (document.errors.length > 0) {
    for (const error of document.errors) reader.fail(null, "", yamlProblem(error), error.pos[0]);
    return { ok: false, issues: reader.issues };
  }
  const root = reader.resolve(document.contents);
  if (root === null) {
    const expected = `apiVersion: ${API_VERSION} and kind: ${options.expect ?? "Policy or Pins"}`;
    reader.fail(null, "", `the document is empty; expected a mapping with ${expected}`);
    return { ok: false, issues: reader.issues };
  }
  const entries = reader.entries(root, "", "a mapping with apiVersion, kind and pins");
  if (entries === undefined) return { ok: false, issues: reader.issues };
  const fields = new Map(entries.map((entry) => [entry.key, entry]));

  checkApiVersion(reader, root, fields.get("apiVersion"));
  const kind = readKind(reader, root, fields.get("kind"), options.expect);
  const allowed = kind === "Pins" ? PINS_KEYS : POLICY_KEYS;
  for (const entry of entries) {
    if (allowed.includes(entry.key)) continue;
    const message = POLICY_KEYS.includes(entry.key)
      ? `settings are not allowed in a kind: Pins document (only pins); put them in the Policy`
      : unknownKey(entry.key, allowed);
    reader.fail(entry.keyNode, entry.key, message);
  }

  const pinsEntry = fields.get("pins");
  const pinsNode = pinsEntry?.value ?? null;
  if (plain !== undefined) {
    const fits =
      isMap(root) &&
      root.flow !== true &&
      pinsEntry !== undefined &&
      pinsNode === null &&
      reader.position(pinsEntry.keyNode).line === plain.keyLine;
    if (!fits) return { ok: false, issues: [] };
  }
  const pins = plain?.records ?? (pinsNode === null ? [] : readPins(reader, pinsNode, "pins"));
  const removedNode = fields.get("removed")?.value ?? null;
  const removed = removedNode === null ? [] : readRemoved(reader, removedNode, "removed");
  const result: ParsedDocument =
    kind === "Pins"
      ? { kind, source: sourceName, pins, removed }
      : {
          kind: "Policy",
          source: sourceName,
          settings: readSettings(reader, fields),
          pins,
          removed,
        };
  if (reader.issues.length > 0) {
    const ordered = [...reader.issues].sort((a, b) => a.line - b.line || a.column - b.column);
    return { ok: false, issues: ordered };
  }
  return { ok: true, document: result };
}

/** checkPolicyDocument, throwing PolicyInvalidError (code ERR_POLICY_INVALID) with every issue. */
export function parsePolicyDocument(
  text: string,
  sourceName: string,
  options: { readonly expect: "Policy" },
): PolicyDocument;
export function parsePolicyDocument(
  text: string,
  sourceName: string,
  options: { readonly expect: "Pins" },
): PinsDocument;
export function parsePolicyDocument(
  text: string,
  sourceName: string,
  options?: ParseOptions,
): ParsedDocument;
export function parsePolicyDocument(
  text: string,
  sourceName: string,
  options: ParseOptions = {},
): ParsedDocument {
  const result = checkPolicyDocument(text, sourceName, options);
  if (!result.ok) throw new PolicyInvalidError(result.issues);
  return result.document;
}

function checkApiVersion(reader: YamlReader, root: Node, entry: Entry | undefined): void {
  const node = entry?.value ?? null;
  if (node === null) {
    reader.fail(entry?.keyNode ?? root, "apiVersion", `is required: ${API_VERSION}`);
    return;
  }
  const value = reader.string(node, "apiVersion");
  if (value !== undefined && value !== API_VERSION) {
    reader.fail(node, "apiVersion", `${quote(value)} is not supported; expected ${API_VERSION}`);
  }
}

function readKind(
  reader: YamlReader,
  root: Node,
  entry: Entry | undefined,
  expect: DocumentKind | undefined,
): DocumentKind | undefined {
  const node = entry?.value ?? null;
  if (node === null) {
    reader.fail(entry?.keyNode ?? root, "kind", `is required: ${expect ?? KINDS.join(" or ")}`);
    return expect;
  }
  const kind = reader.oneOf(node, "kind", KINDS);
  if (kind !== undefined && expect !== undefined && kind !== expect) {
    reader.fail(node, "kind", `expected ${expect} here, got ${kind}`);
    return expect;
  }
  return kind ?? expect;
}
