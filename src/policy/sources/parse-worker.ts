// The worker thread of DocumentParser: checks policy documents and files off the main thread
// and answers with the result as JSON (parsed on the main thread much faster than a clone).
import { parentPort } from "node:worker_threads";
import { checkPolicyDocument, checkPolicyFile } from "../document/index.ts";
import type { ParseRequest } from "./document-parser.ts";

parentPort?.on("message", (request: ParseRequest) => {
  try {
    const result =
      request.kind === "document"
        ? checkPolicyDocument(request.text, request.source, { expect: request.expect })
        : checkPolicyFile({ file: request.file, text: request.text }, request.first);
    parentPort?.postMessage({ id: request.id, json: JSON.stringify(result) });
  } catch (error) {
    parentPort?.postMessage({ id: request.id, failed: String(error) });
  }
});
