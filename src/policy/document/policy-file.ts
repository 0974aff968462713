// A policy file checked: each of its documents read as it would be alone, every issue and pin
// pointing at its line and column in the file; the files of a policy combined.
import { checkPolicyDocument, type DocumentResult, type ParseOptions } from "./document.ts";
import { splitPolicyFile, type FileDocument } from "./file-documents.ts";
import type { PolicyIssue } from "./issues.ts";
import type { ParsedDocument, PinRecord } from "./schema.ts";

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
