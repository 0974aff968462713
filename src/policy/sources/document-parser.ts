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
import {
  transferable,
  utf8,
  type FileRead,
  type ParseAnswer,
  type ParseJob,
} from "./parse-messages.ts";
import { DeltaDecoder, type EncodedFile } from "./pin-delta.ts";

/** Texts shorter than this are checked at once: a worker round trip would cost more. */
const WORKER_THRESHOLD_BYTES = 32 * 1024;

/**
 * The worker's old generation: 8 MiB per MiB of the documents it holds, plus 32 (a 100,000-pin
 * file of 10 MiB is checked within 96 MiB). A worker's memory, once grown, is not given back to
 * the system, and V8 grows a heap up to its limit before it collects in earnest: the limit keeps
 * the worker as small as its work. One that runs out is started again with twice as much.
 */
function workerHeapMiB(bytes: number, grown: number): number {
  return Math.min(4096, Math.max(64, Math.ceil((8 * bytes) / 2 ** 20) + 32) * grown);
}

export interface DocumentParserOptions {
  /** The worker's first old-generation limit in MiB (default: by the documents' size). */
  readonly heapMiB?: number;
}

type Pending = (answer: ParseAnswer | Error) => void;

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
  /** What was checked at once and the worker has not seen, by name: sent with the next check. */
  readonly #unseen = new Map<string, string | Uint8Array>();
  /** The size of each document or file last checked, by name: what the worker will hold. */
  readonly #sizes = new Map<string, number>();
  /** Files the worker reads itself (it has, or is sent with its next read, their last bytes). */
  readonly #reads = new Set<string>();
  /** How many times the worker's heap was doubled after it ran out. */
  #grown = 1;
  readonly #heapMiB: number | undefined;

  constructor(options: DocumentParserOptions = {}) {
    this.#heapMiB = options.heapMiB;
  }

  /** How many files came back as differences since the last forget(). */
  get differences(): number {
    return this.#differences;
  }

  /** How many checks the worker did (for tests and logs). */
  get offThread(): number {
    return this.#offThread;
  }

  /**
   * checkPolicyDocument on the main thread, for a load that stalls nothing (no policy is served
   * yet); the next check of `source` still comes back as a difference, as with fileAtOnce().
   */
  documentAtOnce(text: string, source: string, expect: DocumentKind): DocumentResult {
    const result = checkPolicyDocument(text, source, { expect });
    this.#checkedAtOnce(source, text, { policies: [], pins: [result] });
    return result;
  }

  /** checkPolicyDocument, off the main thread when `text` is large. */
  async document(text: string, source: string, expect: DocumentKind): Promise<DocumentResult> {
    if (!this.#toWorker(source, text)) return checkPolicyDocument(text, source, { expect });
    const before = this.#takeUnseen(source);
    const answer = await this.#ask({
      kind: "document",
      text,
      source,
      expect,
      ...(typeof before === "string" ? { before } : {}),
    });
    const decoded = "json" in answer ? this.#decode(source, answer.json) : undefined;
    return decoded?.pins[0] ?? checkPolicyDocument(text, source, { expect });
  }

  /**
   * checkPolicyFile on the main thread, for a load that stalls nothing (no policy is served
   * yet): the worker, and its memory, are spent only once an edit comes. A large file is read
   * by the worker from then on (readFile), these bytes handed to it first, not copied (the
   * caller must not keep them), so that its next check still comes back as a difference.
   */
  fileAtOnce(file: string, bytes: Uint8Array, first: boolean): CheckedFile {
    const checked = checkPolicyFile({ file, text: utf8(bytes) }, first);
    this.#checkedAtOnce(file, bytes, checked);
    if (this.#unseen.has(file)) this.#reads.add(file);
    return checked;
  }

  /** checkPolicyFile of a file's bytes, off the main thread when they are many. */
  async file(file: string, bytes: Uint8Array, first: boolean): Promise<CheckedFile> {
    if (!this.#toWorker(file, bytes)) return checkPolicyFile({ file, text: utf8(bytes) }, first);
    const before = this.#takeUnseen(file);
    this.#reads.add(file);
    const answer = await this.#ask({
      kind: "file",
      bytes,
      file,
      first,
      ...(before instanceof Uint8Array ? { before } : {}),
    });
    const decoded = "json" in answer ? this.#decode(file, answer.json) : undefined;
    return decoded ?? checkPolicyFile({ file, text: utf8(bytes) }, first);
  }

  /** True when the worker reads `file` itself (a large file, checked once before). */
  reads(file: string): boolean {
    return this.#reads.has(file) && !this.#broken;
  }

  /**
   * The file read and checked by the worker, so that an edit of a large file costs the main
   * thread no copy of its bytes (10 MB at 100,000 pins, and the collections they bring about):
   * "unchanged" when its bytes are those the worker read last; undefined when the worker could
   * not answer (the caller reads the file itself, and file() hands its bytes to a new worker).
   */
  async readFile(file: string, first: boolean): Promise<FileRead | undefined> {
    const before = this.#takeUnseen(file);
    const answer = await this.#ask(
      { kind: "read", file, first, ...(before instanceof Uint8Array ? { before } : {}) },
      before instanceof Uint8Array ? transferable(before) : [],
    );
    if ("unchanged" in answer) return "unchanged";
    if ("readError" in answer) return { error: answer.readError };
    return "json" in answer ? this.#decode(file, answer.json) : undefined;
  }

  /** Notes `content`'s size for the worker's heap; true when it is large enough to send there. */
  #toWorker(name: string, content: string | Uint8Array): boolean {
    this.#sizes.set(name, content.length);
    return content.length >= WORKER_THRESHOLD_BYTES && !this.#broken;
  }

  /** After a check at once: the next check of `name` is sent with `content`, to come back as a difference. */
  #checkedAtOnce(name: string, content: string | Uint8Array, checked: CheckedFile): void {
    if (!this.#toWorker(name, content)) return;
    this.#decoder.remember(name, checked);
    this.#unseen.set(name, content);
  }

  #takeUnseen(name: string): string | Uint8Array | undefined {
    const content = this.#unseen.get(name);
    this.#unseen.delete(name);
    return content;
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
    this.#unseen.clear();
    this.#worker?.postMessage({ kind: "forget", id: -1 });
  }

  /** Stops the worker (pending checks are done at once instead). */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#decoder.forget();
    this.#unseen.clear();
    this.#reads.clear();
    this.#fail(new Error("closed"));
    await worker?.terminate();
  }

  #ask(request: ParseJob, transfer: ArrayBuffer[] = []): Promise<ParseAnswer | Error> {
    const worker = this.#start();
    if (worker === undefined) return Promise.resolve(new Error("no worker"));
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      // Kept alive while it has work: an idle worker alone never holds the process open.
      worker.ref();
      worker.postMessage({ ...request, id }, transfer);
    });
  }

  #start(): Worker | undefined {
    if (this.#worker !== undefined || this.#broken) return this.#worker;
    try {
      const here = fileURLToPath(import.meta.url);
      let bytes = 0;
      for (const size of this.#sizes.values()) bytes += size;
      const heap =
        this.#heapMiB === undefined
          ? workerHeapMiB(bytes, this.#grown)
          : Math.min(4096, this.#heapMiB * this.#grown);
      const worker = new Worker(new URL(`./parse-worker${extname(here)}`, import.meta.url), {
        resourceLimits: { maxOldGenerationSizeMb: heap, maxYoungGenerationSizeMb: 16 },
      });
      worker.unref();
      worker.on("message", (answer: ParseAnswer) => {
        const resolve = this.#pending.get(answer.id);
        this.#pending.delete(answer.id);
        if (this.#pending.size === 0) worker.unref();
        if ("json" in answer) this.#offThread++;
        resolve?.("failed" in answer ? new Error(answer.failed) : answer);
      });
      worker.on("error", (error: Error & { code?: string }) => {
        // Out of memory: the next check starts a worker with more (this one is checked at once).
        if (error.code === "ERR_WORKER_OUT_OF_MEMORY" && this.#grown < 64) this.#grown *= 2;
        else this.#broken = true;
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
