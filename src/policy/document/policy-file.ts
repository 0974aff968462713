import {
  isMap,
  isScalar,
  LineCounter,
  parseAllDocuments,
  Scalar,
  type Node,
  type YAMLMap,
} from "yaml";
import { checkPolicyDocument, type DocumentResult, type ParseOptions } from "./document.ts";
import type { PolicyIssue } from "./issues.ts";
import type { DocumentKind, ParsedDocument, PinRecord } from "./schema.ts";

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
 * Splits a file into its policy and pins documents (see above); other objects of a manifest
 * bundle are left out. Pure.
 */
export function splitPolicyFile(text: string, file: string): readonly FileDocument[] {
  // One document that is not a ConfigMap is read whole, as below; knowing that needs no parse
  // when no line could start another document or make the root anything but a block mapping
  // without `kind: ConfigMap` (a 100,000-pin file: yaml would build a node per key and value).
  if (!MAYBE_SPLIT.test(text)) return [plain(text, file)];
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

/**
 * checkPolicyDocument for a document of a file: issues and pin origins say the file and its
 * line and column; `expect` is the caller's, or the one the document's place asks for.
 */
export function checkFileDocument(
  document: FileDocument,
  options: ParseOptions = {},
): DocumentResult {
  const expect = options.expect ?? document.expect;
  const result = checkPolicyDocument(document.text, document.name, {
    ...options,
    ...(expect !== undefined && { expect }),
  });
  if (!result.ok)
    return { ok: false, issues: result.issues.map((issue) => locateIssue(document, issue)) };
  return { ok: true, document: locateDocument(document, result.document) };
}

function locateIssue(document: FileDocument, issue: PolicyIssue): PolicyIssue {
  return { ...issue, source: document.file, ...document.locate(issue.line, issue.column) };
}

function locateDocument(document: FileDocument, parsed: ParsedDocument): ParsedDocument {
  const pins = parsed.pins.map((pin): PinRecord => {
    if (pin.origin === undefined) return pin;
    const at = document.locate(pin.origin.line, pin.origin.column);
    return { ...pin, origin: { source: document.file, ...at } };
  });
  return { ...parsed, source: document.name, pins };
}

/** A file as read: its text, or why it could not be read. */
export type FileRead =
  | { readonly file: string; readonly text: string }
  | { readonly file: string; readonly error: string };

/** The documents of a policy's files, checked: the Policy, and every Pins document. */
export interface CheckedFiles {
  readonly policy: DocumentResult;
  readonly pins: readonly DocumentResult[];
}

/** The documents of one file, checked, sorted into the Policy ones and the Pins ones. */
export interface CheckedFile {
  readonly policies: readonly DocumentResult[];
  readonly pins: readonly DocumentResult[];
}

/**
 * One file of a policy, checked (checkFileDocument): the first file holds the kind: Policy
 * document (and may hold Pins documents too), the others Pins documents only.
 */
export function checkPolicyFile(
  read: FileRead,
  first: boolean,
  options: Pick<ParseOptions, "pinKeys"> = {},
): CheckedFile {
  if ("error" in read) {
    const message = `cannot read: ${read.error}`;
    const failed: DocumentResult = {
      ok: false,
      issues: [{ source: read.file, line: 0, column: 0, path: "", message }],
    };
    return first ? { policies: [failed], pins: [] } : { policies: [], pins: [failed] };
  }
  const documents = splitPolicyFile(read.text, read.file);
  const policies: DocumentResult[] = [];
  const pins: DocumentResult[] = [];
  const alone = documents.length === 1;
  for (const document of documents) {
    const expect = document.expect ?? (!first ? "Pins" : alone ? "Policy" : undefined);
    const result = checkFileDocument(document, {
      ...options,
      ...(expect !== undefined && { expect }),
    });
    const isPolicy = result.ok ? result.document.kind === "Policy" : expect === "Policy";
    (isPolicy ? policies : pins).push(result);
  }
  return { policies, pins };
}

/** The checked files of a policy as one: its one Policy document, and every Pins document. */
export function combineFiles(files: readonly CheckedFile[], firstFile: string): CheckedFiles {
  const policies = files.flatMap((file) => file.policies);
  const pins = files.flatMap((file) => file.pins);
  const [policy, ...more] = policies;
  const problem =
    policy === undefined
      ? "holds no kind: Policy document; the first file given must hold the policy"
      : more.length > 0
        ? "holds more than one kind: Policy document; keep one (pins may go in kind: Pins documents)"
        : undefined;
  if (policy === undefined || problem !== undefined) {
    const issue = { source: firstFile, line: 0, column: 0, path: "kind", message: problem ?? "" };
    return { policy: { ok: false, issues: [issue] }, pins };
  }
  return { policy, pins };
}

/** checkPolicyFile for each of a policy's files, combined. */
export function checkPolicyFiles(reads: readonly FileRead[]): CheckedFiles {
  const files = reads.map((read, index) => checkPolicyFile(read, index === 0));
  return combineFiles(files, reads[0]?.file ?? "");
}
