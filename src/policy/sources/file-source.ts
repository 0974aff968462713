import { readFile } from "node:fs/promises";
import type { Policy } from "../decide/index.ts";
import { checkPolicyFile, combineFiles, type CheckedFile } from "../document/index.ts";
import { PolicyAssembler } from "./assemble.ts";
import { DocumentParser } from "./document-parser.ts";
import { watchFiles, type FileWatchOptions } from "./file-watch.ts";
import { PolicyHolder, type PolicyHolderOptions } from "./policy-holder.ts";
import type { PolicyListener, PolicySource } from "./source.ts";

export interface FileSourceOptions extends PolicyHolderOptions, FileWatchOptions {
  /** A `kind: Policy` file. */
  readonly policyFile: string;
  /** `kind: Pins` files merged into it. */
  readonly pinsFiles?: readonly string[];
}

/**
 * The policy from local files (`digestpin serve --policy FILE`), reloaded when they change.
 * Files are read whole and checked off to the side (large ones in a worker thread, so the
 * reviews meanwhile are not stalled); only a valid set replaces the policy.
 */
export class FilePolicySource implements PolicySource {
  readonly #options: FileSourceOptions;
  readonly #holder: PolicyHolder;
  #assembler = new PolicyAssembler();
  readonly #parser = new DocumentParser();
  /** What the files held at the last load and what they were checked as: unchanged files are
   * not checked again, and a load that would change nothing is skipped. */
  #applied: readonly (BytesRead & { readonly checked: CheckedFile })[] | undefined;
  #stopWatching: (() => void) | undefined;
  #queue: Promise<void> = Promise.resolve();

  constructor(options: FileSourceOptions) {
    this.#options = options;
    this.#holder = new PolicyHolder(options);
  }

  current(): Policy | undefined {
    return this.#holder.current();
  }

  get generation(): number {
    return this.#holder.generation;
  }

  get issues() {
    return this.#holder.issues;
  }

  onChange(listener: PolicyListener): () => void {
    return this.#holder.onChange(listener);
  }

  async start(): Promise<void> {
    await this.reload();
    const files = [this.#options.policyFile, ...(this.#options.pinsFiles ?? [])];
    this.#stopWatching ??= watchFiles(files, () => void this.reload(), this.#options);
  }

  async stop(): Promise<void> {
    this.#stopWatching?.();
    this.#stopWatching = undefined;
    await this.#queue;
    await this.#parser.close();
  }

  /** Reads the files again and swaps the policy if they changed and are valid. */
  reload(): Promise<void> {
    this.#queue = this.#queue.then(() => this.#load());
    return this.#queue;
  }

  async #load(whole = false): Promise<void> {
    const { policyFile, pinsFiles = [] } = this.#options;
    // Read as bytes (memory outside the JavaScript heap) and compared byte for byte: a 100,000-
    // pin file is 10 MB, and a string of that size on every edit costs the reviews a collection.
    const reads = await Promise.all(
      [policyFile, ...pinsFiles].map((file) =>
        readFile(file).then(
          (bytes): BytesRead => ({ file, bytes }),
          (error: unknown): BytesRead => ({ file, error: (error as Error).message }),
        ),
      ),
    );
    // What each file was checked as, if its bytes are those of the last load (compared once).
    const unchanged = reads.map((read, i) => {
      const before = whole ? undefined : this.#applied?.[i];
      return before !== undefined && sameRead(before, read) ? before.checked : undefined;
    });
    if (this.#applied !== undefined && unchanged.every((checked) => checked !== undefined)) return;
    // While no policy is served nothing can stall: files are checked at once, and the worker
    // (with its memory) is started by the first edit.
    const atOnce = this.#holder.current() === undefined;
    // Each file is checked once per content: an edit of one file reads only that file again.
    const applied = await Promise.all(
      reads.map(async (read, index) => {
        const checked =
          unchanged[index] ??
          ("error" in read
            ? checkPolicyFile(read, index === 0)
            : atOnce
              ? this.#parser.fileAtOnce(read.file, read.bytes, index === 0)
              : await this.#parser.file(read.file, read.bytes, index === 0));
        return { ...read, checked };
      }),
    );
    this.#applied = applied;
    const files = applied.map((read) => read.checked);
    const { policy, pins } = combineFiles(files, policyFile);
    const assembled = this.#assembler.assemble(policy, pins);
    if (!assembled.ok && !whole && this.#parser.differences > 0) {
      // Pins read as differences may carry the line they had before: read everything whole once
      // more so that every issue names the right line.
      this.#parser.forget();
      this.#assembler = new PolicyAssembler();
      await this.#load(true);
      return;
    }
    if (assembled.ok) this.#holder.accept(assembled.policy);
    else this.#holder.reject(assembled.issues);
  }
}

/** A file as read: its bytes, or why it could not be read. */
type BytesRead =
  | { readonly file: string; readonly bytes: Buffer }
  | { readonly file: string; readonly error: string };

function sameRead(a: BytesRead | undefined, b: BytesRead): boolean {
  if (a?.file !== b.file) return false;
  return "bytes" in a
    ? "bytes" in b && a.bytes.equals(b.bytes)
    : "error" in b && a.error === b.error;
}
