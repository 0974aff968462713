// The worker thread of DocumentParser: checks policy documents and files off the main thread
// and answers with the result as JSON (parsed on the main thread much faster than a clone);
// for a file it has checked before, only the pins that changed (DeltaEncoder).
import { readFileSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort } from "node:worker_threads";
import {
  checkPlainFile,
  checkPolicyDocument,
  editPlainFile,
  type PlainFile,
} from "../document/index.ts";
import { utf8, type ParseAnswer, type ParseRequest } from "./document-parser.ts";
import { DeltaEncoder } from "./pin-delta.ts";

const encoder = new DeltaEncoder();
/** Pin keys as written → canonical: the same pins come again with every edit. */
const pinKeys = new Map<string, string | null>();
/** Past this many keys the memo starts afresh (keys of pins long removed go with it). */
const MAX_PIN_KEYS = 2_000_000;
/** Each file's bytes as last checked here: a read that finds them again is "unchanged". */
const lastBytes = new Map<string, Uint8Array>();
/** Files of one document last read with plain pins: their next edit is read by its lines. */
const plainFiles = new Map<string, PlainFile>();

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
      plainFiles.clear();
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
  const before = plainFiles.get(file);
  plainFiles.delete(file); // an edit changes what it reads from: kept again only if it succeeds
  const edit = before?.first === first ? editPlainFile(before, text, { pinKeys }) : undefined;
  if (edit !== undefined) {
    plainFiles.set(file, edit.plain);
    return encoder.encodeEdit(file, edit);
  }
  const { checked, plain } = checkPlainFile(file, text, first, { pinKeys });
  if (plain !== undefined) plainFiles.set(file, plain);
  return encoder.encode(file, checked);
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

function encodeDocument(request: Extract<ParseRequest, { kind: "document" }>) {
  const { source, expect } = request;
  const check = (text: string) => ({
    policies: [],
    pins: [checkPolicyDocument(text, source, { expect, pinKeys })],
  });
  // The text the main thread checked at once: read first, so this one is sent as a difference.
  if (request.before !== undefined) encoder.encode(source, check(request.before));
  return encoder.encode(source, check(request.text));
}
