// The worker thread of DocumentParser: checks policy documents and files off the main thread
// and answers with the result as JSON (parsed on the main thread much faster than a clone);
// for a file it has checked before, only the pins that changed (DeltaEncoder).
import { readFileSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort } from "node:worker_threads";
import {
  checkedFile,
  checkPlainDocument,
  checkPlainFile,
  editPlainDocument,
  type DocumentKind,
  type PlainDocument,
} from "../document/index.ts";
import { utf8, type ParseAnswer, type ParseRequest } from "./parse-messages.ts";
import { DeltaEncoder } from "./pin-delta.ts";

const encoder = new DeltaEncoder();
/** Pin keys as written → canonical: the same pins come again with every edit. */
const pinKeys = new Map<string, string | null>();
/** Past this many keys the memo starts afresh (keys of pins long removed go with it). */
const MAX_PIN_KEYS = 2_000_000;
/** Each file's bytes as last checked here: a read that finds them again is "unchanged". */
const lastBytes = new Map<string, Uint8Array>();
/** Documents (and files of one) last read with plain pins: their next edit is read by its lines. */
const plainDocuments = new Map<string, PlainDocument>();

// The reviews come first: on Linux this lowers this thread alone (the main thread keeps its
// priority), so a check shares a busy CPU without delaying an answer. Where it is not allowed,
// the thread runs as before.
try {
  setPriority(19);
} catch {
  // not permitted: same priority as the main thread
}

parentPort?.on("message", (request: ParseRequest) => {
  const answer = (reply: ParseAnswer) => parentPort?.postMessage(reply);
  try {
    if (request.kind === "forget") {
      encoder.forget();
      pinKeys.clear();
      lastBytes.clear();
      plainDocuments.clear();
      return;
    }
    if (pinKeys.size > MAX_PIN_KEYS) pinKeys.clear();
    if (request.kind === "document") {
      answer({ id: request.id, json: JSON.stringify(encodeDocument(request)) });
      return;
    }
    const { file, first, before } = request;
    // The bytes the main thread checked at once: read first, so these come as a difference.
    if (before !== undefined) {
      encodeFile(file, before, first);
      lastBytes.set(file, before);
    }
    let bytes: Uint8Array;
    if (request.kind === "read") {
      try {
        bytes = readFileSync(file);
      } catch (error) {
        lastBytes.delete(file);
        answer({ id: request.id, readError: (error as Error).message });
        return;
      }
      if (sameBytes(lastBytes.get(file), bytes)) {
        answer({ id: request.id, unchanged: true });
        return;
      }
    } else bytes = request.bytes;
    lastBytes.set(file, bytes);
    answer({ id: request.id, json: JSON.stringify(encodeFile(file, bytes, first)) });
  } catch (error) {
    answer({ id: request.id, failed: String(error) });
  }
});

/** A file checked and encoded: by the lines an edit changed when it can be, else whole. */
function encodeFile(file: string, bytes: Uint8Array, first: boolean) {
  const text = utf8(bytes);
  const edit = editOf(file, text, first ? "Policy" : "Pins");
  if (edit !== undefined) return encoder.encodeEdit(file, checkedFile(edit.result, first), edit);
  const { checked, plain } = checkPlainFile(file, text, first, { pinKeys });
  if (plain !== undefined) plainDocuments.set(file, plain);
  return encoder.encode(file, checked);
}

function encodeDocument(request: Extract<ParseRequest, { kind: "document" }>) {
  const { source, expect } = request;
  const check = (text: string) => {
    // A document is sent as the one Pins document of a file (the main thread reads `pins[0]`).
    const edit = editOf(source, text, expect);
    if (edit !== undefined)
      return encoder.encodeEdit(source, { policies: [], pins: [edit.result] }, edit);
    const { result, plain } = checkPlainDocument(text, source, { expect, pinKeys });
    if (plain !== undefined) plainDocuments.set(source, plain);
    return encoder.encode(source, { policies: [], pins: [result] });
  };
  // The text the main thread checked at once: read first, so this one is sent as a difference.
  if (request.before !== undefined) check(request.before);
  return check(request.text);
}

/** The edit from the version of `name` read last, read by its lines; undefined: read it whole. */
function editOf(name: string, text: string, expect: DocumentKind) {
  const before = plainDocuments.get(name);
  plainDocuments.delete(name); // used up by the edit: kept again only as what it became
  if (before?.expect !== expect) return undefined;
  const edit = editPlainDocument(before, text, { pinKeys });
  if (edit === undefined) return undefined;
  plainDocuments.set(name, edit.plain);
  return { ...edit, result: { ok: true as const, document: edit.plain.document } };
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
