// The worker thread of DocumentParser: checks policy documents and files off the main thread
// and answers with the result as JSON (parsed on the main thread much faster than a clone);
// for a file it has checked before, only the pins that changed (DeltaEncoder).
import { parentPort } from "node:worker_threads";
import { checkPolicyDocument, checkPolicyFile } from "../document/index.ts";
import type { ParseRequest } from "./document-parser.ts";
import { DeltaEncoder } from "./pin-delta.ts";

const encoder = new DeltaEncoder();

parentPort?.on("message", (request: ParseRequest) => {
  try {
    if (request.kind === "forget") {
      encoder.forget();
      return;
    }
    const result =
      request.kind === "document"
        ? encoder.encode(request.source, {
            policies: [],
            pins: [checkPolicyDocument(request.text, request.source, { expect: request.expect })],
          })
        : encoder.encode(
            request.file,
            checkPolicyFile({ file: request.file, text: request.text }, request.first),
          );
    parentPort?.postMessage({ id: request.id, json: JSON.stringify(result) });
  } catch (error) {
    parentPort?.postMessage({ id: request.id, failed: String(error) });
  }
});
