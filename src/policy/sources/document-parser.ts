import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import {
  checkPolicyDocument,
  checkPolicyFile,
  type CheckedFile,
  type DocumentKind,
  type DocumentResult,
} from "../document/index.ts";
import { DeltaDecoder, type EncodedFile } from "./pin-delta.ts";

/** A document or file to check, as sent to the worker. */
export type ParseRequest = ParseJob & { readonly id: number };

type ParseJob =
  | {
      readonly kind: "document";
      readonly text: string;
      readonly source: string;
      readonly expect: DocumentKind;
    }
  | {
      readonly kind: "file";
      readonly text: string;
      readonly file: string;
      readonly first: boolean;
    }
  | { readonly kind: "forget" };

/** Texts shorter than this are checked at once: a worker round trip would cost more. */
const WORKER_THRESHOLD_BYTES = 32 * 1024;

type Pending = (json: string | Error) => void;

/**
 * Checks policy documents and files in a worker thread, so that reading a large pins document
 * (100,000 pins: over half a second of YAML) never stalls the reviews the main thread serves.
 * Results come back as JSON (a tenth of a structured clone's cost), and a file checked before
 * comes back as the difference of its pins (pin-delta.ts), so one pin added to a 100,000-pin
 * file costs the main thread one pin. Small texts are checked at once; if the worker cannot
 * run, everything is checked at once as before.
 */
export class DocumentParser {
  #worker: Worker | undefined;
  #broken = false;
  #next = 0;
  readonly #pending = new Map<number, Pending>();
  #offThread = 0;
  readonly #decoder = new DeltaDecoder();
  #differences = 0;

  /** How many files came back as differences since the last forget(). */
  get differences(): number {
    return this.#differences;
  }

  /** How many checks the worker did (for tests and logs). */
  get offThread(): number {
    return this.#offThread;
  }

  /** checkPolicyDocument, off the main thread when `text` is large. */
  async document(text: string, source: string, expect: DocumentKind): Promise<DocumentResult> {
    if (text.length < WORKER_THRESHOLD_BYTES || this.#broken)
      return checkPolicyDocument(text, source, { expect });
    const json = await this.#ask({ kind: "document", text, source, expect });
    const decoded = json instanceof Error ? undefined : this.#decode(source, json);
    return decoded?.pins[0] ?? checkPolicyDocument(text, source, { expect });
  }

  /** checkPolicyFile of a file read, off the main thread when it is large. */
  async file(file: string, text: string, first: boolean): Promise<CheckedFile> {
    if (text.length < WORKER_THRESHOLD_BYTES || this.#broken)
      return checkPolicyFile({ file, text }, first);
    const json = await this.#ask({ kind: "file", text, file, first });
    const decoded = json instanceof Error ? undefined : this.#decode(file, json);
    return decoded ?? checkPolicyFile({ file, text }, first);
  }

  /** The worker's answer for `name`, rebuilt; undefined (and all forgotten) if it cannot be. */
  #decode(name: string, json: string): CheckedFile | undefined {
    try {
      const encoded = JSON.parse(json) as EncodedFile;
      if (Object.keys(encoded.deltas).length > 0) this.#differences++;
      return this.#decoder.decode(name, encoded);
    } catch {
      this.forget();
      return undefined;
    }
  }

  /**
   * Forgets the files sent before: the next check of each comes back whole, with every pin on
   * its current line (for exact messages after a merge that failed).
   */
  forget(): void {
    this.#differences = 0;
    this.#decoder.forget();
    this.#worker?.postMessage({ kind: "forget", id: -1 });
  }

  /** Stops the worker (pending checks are done at once instead). */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#decoder.forget();
    this.#fail(new Error("closed"));
    await worker?.terminate();
  }

  #ask(request: ParseJob): Promise<string | Error> {
    const worker = this.#start();
    if (worker === undefined) return Promise.resolve(new Error("no worker"));
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      worker.postMessage({ ...request, id });
    });
  }

  #start(): Worker | undefined {
    if (this.#worker !== undefined || this.#broken) return this.#worker;
    try {
      const here = fileURLToPath(import.meta.url);
      const worker = new Worker(new URL(`./parse-worker${extname(here)}`, import.meta.url));
      worker.unref();
      worker.on("message", (message: { id: number; json?: string; failed?: string }) => {
        const resolve = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.json !== undefined) this.#offThread++;
        resolve?.(message.json ?? new Error(message.failed));
      });
      worker.on("error", (error: Error) => {
        this.#broken = true;
        this.#worker = undefined;
        this.#fail(error);
      });
      this.#worker = worker;
      return worker;
    } catch {
      this.#broken = true;
      return undefined;
    }
  }

  #fail(error: Error): void {
    for (const resolve of this.#pending.values()) resolve(error);
    this.#pending.clear();
  }
}
