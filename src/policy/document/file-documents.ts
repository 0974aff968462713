// A policy file split into its documents (Policy, Pins, or those a ConfigMap manifest wraps),
// each with where it is in the file and how to write it back.
import {
  isMap,
  isScalar,
  LineCounter,
  parseAllDocuments,
  Scalar,
  type Node,
  type YAMLMap,
} from "yaml";
import type { DocumentKind } from "./schema.ts";

/**
 * A policy file as people keep it: one Policy or Pins document, several separated by `---`, or
 * the ConfigMap manifests that wrap them in Git (`data: {policy.yaml: |…}`). Each document is
 * read as it would be alone, and every issue and pin points at its line and column in the file.
 */

/** One document of a file: its text, where it is in the file, and how to write it back. */
export interface FileDocument {
  /** The file name, for issues. */
  readonly file: string;
  /** `policy.yaml`, `policy.yaml (document 2)`, `k8s/policy.yaml (configmap digestpin-policy)`. */
  readonly name: string;
  /** The kind its place asks for: a ConfigMap's policy.yaml holds a Policy, pins.yaml Pins. */
  readonly expect: DocumentKind | undefined;
  readonly text: string;
  /** Where `text` starts in the file (to apply several replacements, the last first). */
  readonly start: number;
  /** The file line and column of a line and column of `text` (1-based lines, as issues have). */
  readonly locate: (line: number, column: number) => { line: number; column: number };
  /**
   * The file's text with this document's text replaced by `text`; undefined when it cannot be
   * written back in place (a ConfigMap value that is not a `|` block).
   */
  readonly replace: ((file: string, text: string) => string) | undefined;
}

/**
 * A line that may start another document (`---`, `...` at column 0), or one that starts with
 * what could make the root anything but a plain block mapping (a directive, flow, explicit key,
 * tag, anchor, alias, block scalar), or a `kind: ConfigMap` at any indentation (a root may be
 * indented): a text without any is one document that is not a ConfigMap.
 */
const MAYBE_SPLIT =
  /(?:^|\n)(?:---|\.\.\.|[ \t]*(?:[%?{[!&*|>@`]|["']?kind["']?[ \t]*:[ \t]*["']?ConfigMap))/;

const KEYS: readonly [string, DocumentKind][] = [
  ["policy.yaml", "Policy"],
  ["pins.yaml", "Pins"],
];

/**
 * Whether a line of `text` could start another document or make a file's root anything but a
 * block mapping without `kind: ConfigMap` (when not, the file is read as one document).
 */
export function mayHoldSeveralDocuments(text: string): boolean {
  return MAYBE_SPLIT.test(text);
}

/**
 * Splits a file into its policy and pins documents (see above); other objects of a manifest
 * bundle are left out. Pure.
 */
export function splitPolicyFile(text: string, file: string): readonly FileDocument[] {
  // One document that is not a ConfigMap is read whole, as below; knowing that needs no parse
  // when no line could start another document or make the root anything but a block mapping
  // without `kind: ConfigMap` (a 100,000-pin file: yaml would build a node per key and value).
  if (!mayHoldSeveralDocuments(text)) return [plain(text, file)];
  const lines = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter: lines, version: "1.2", uniqueKeys: false });
  const docs = Array.isArray(parsed) ? parsed : [];
  const present = docs.filter((doc) => !isEmpty(doc.contents));
  // A broken file, or one plain document, is read whole: its issues say where, as ever.
  const single = present.length === 1 && !isConfigMap(present[0]?.contents ?? null);
  if (docs.some((doc) => doc.errors.length > 0) || present.length === 0 || single) {
    return [plain(text, file)];
  }
  const documents: FileDocument[] = [];
  let start = 0;
  for (const [index, doc] of docs.entries()) {
    const from = start;
    const end = doc.range[2];
    start = end;
    const root = doc.contents;
    if (isEmpty(root)) continue;
    // Other objects of a manifest bundle (its Namespace, other ConfigMaps) are not ours.
    if (isConfigMap(root)) {
      documents.push(...wrapped(text, file, root, lines));
      continue;
    }
    if (isForeign(root)) continue;
    const offset = lines.linePos(from).line - 1;
    documents.push({
      file,
      name: `${file} (document ${String(index + 1)})`,
      expect: undefined,
      text: text.slice(from, end),
      start: from,
      locate: (line, column) => ({ line: line + offset, column }),
      replace: (whole, next) => whole.slice(0, from) + next + whole.slice(end),
    });
  }
  return documents;
}

function isEmpty(root: Node | null): boolean {
  return root === null || (isScalar(root) && root.value === null);
}

/** A Kubernetes object that is not a digestpin document (nor a misspelt one). */
function isForeign(root: Node | null): boolean {
  if (!isMap(root)) return false;
  const apiVersion = root.get("apiVersion");
  const kind = root.get("kind");
  return (
    typeof apiVersion === "string" &&
    !apiVersion.includes("digestpin") &&
    kind !== "Policy" &&
    kind !== "Pins"
  );
}

function isConfigMap(root: Node | null): root is YAMLMap {
  return isMap(root) && root.get("kind") === "ConfigMap";
}

function plain(text: string, file: string): FileDocument {
  return {
    file,
    name: file,
    expect: undefined,
    text,
    start: 0,
    locate: (line, column) => ({ line, column }),
    replace: (_whole, next) => next,
  };
}

/** The documents a ConfigMap manifest wraps (its `data` keys policy.yaml and pins.yaml). */
function wrapped(
  text: string,
  file: string,
  root: Node | null,
  lines: LineCounter,
): FileDocument[] {
  if (!isMap(root)) return [];
  const metadata = root.get("metadata", true);
  const named = isMap(metadata) ? metadata.get("name") : undefined;
  const name = typeof named === "string" ? named : "";
  const data = root.get("data", true);
  if (!isMap(data)) return [];
  const found: FileDocument[] = [];
  for (const [key, expect] of KEYS) {
    const value = data.get(key, true);
    if (!isScalar(value) || typeof value.value !== "string" || value.range == null) continue;
    found.push(embedded(text, file, `${file} (configmap ${name}, ${key})`, expect, value, lines));
  }
  return found;
}

/** A document held in a ConfigMap value: a `|` block maps line for line, anything else to its start. */
function embedded(
  text: string,
  file: string,
  name: string,
  expect: DocumentKind,
  value: Scalar,
  lines: LineCounter,
): FileDocument {
  const inner = String(value.value);
  const range = value.range ?? [0, 0, 0];
  const header = lines.linePos(range[0]);
  if (value.type !== Scalar.BLOCK_LITERAL) {
    return {
      file,
      name,
      expect,
      text: inner,
      start: range[0],
      locate: () => ({ line: header.line, column: header.col }),
      replace: undefined,
    };
  }
  const contentStart = text.indexOf("\n", range[0]) + 1;
  const contentEnd = range[1];
  const indent = /^( *)\S/m.exec(text.slice(contentStart, contentEnd))?.[1]?.length ?? 0;
  return {
    file,
    name,
    expect,
    text: inner,
    start: contentStart,
    locate: (line, column) => ({ line: header.line + line, column: column + indent }),
    replace: (whole, next) => {
      const pad = " ".repeat(indent);
      const body = next
        .replace(/\n$/, "")
        .split("\n")
        .map((line) => (line === "" ? "" : `${pad}${line}`))
        .join("\n");
      const end = whole.slice(contentEnd);
      return `${whole.slice(0, contentStart)}${body}\n${end.startsWith("\n") ? end.slice(1) : end}`;
    },
  };
}
