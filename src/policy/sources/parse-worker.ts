// The worker thread of DocumentParser: checks policy documents and files off the main thread
// and answers with the result as JSON (parsed on the main thread much faster than a clone);
// for a file it has checked before, only the pins that changed (DeltaEncoder).
import { parentPort } from "node:worker_threads";
import { checkPolicyDocument, checkPolicyFile } from "../document/index.ts";
import { utf8, type ParseRequest } from "./document-parser.ts";
import { DeltaEncoder } from "./pin-delta.ts";

const encoder = new DeltaEncoder();
/** Pin keys as written → canonical: the same pins come again with every edit. */
const pinKeys = new Map<string, string | null>();
/** Past this many keys the memo starts afresh (keys of pins long removed go with it). */
const MAX_PIN_KEYS = 2_000_000;

parentPort?.on("message", (request: ParseRequest) => {
  try {
    if (request.kind === "forget") {
      encoder.forget();
      pinKeys.clear();
      return;
    }
    if (pinKeys.size > MAX_PIN_KEYS) pinKeys.clear();
    const result = request.kind === "document" ? encodeDocument(request) : encodeFile(request);
    parentPort?.postMessage({ id: request.id, json: JSON.stringify(result) });
  } catch (error) {
    parentPort?.postMessage({ id: request.id, failed: String(error) });
  }
});

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

function encodeFile(request: Extract<ParseRequest, { kind: "file" }>) {
  // The text the main thread checked at once: read first, so this one is sent as a difference.
  if (request.before !== undefined)
    encoder.encode(
      request.file,
      checkPolicyFile({ file: request.file, text: utf8(request.before) }, request.first, {
        pinKeys,
      }),
    );
  return encoder.encode(
    request.file,
    checkPolicyFile({ file: request.file, text: utf8(request.bytes) }, request.first, { pinKeys }),
  );
}
