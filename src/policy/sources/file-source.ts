import { readFile } from "node:fs/promises";
import type { Policy } from "../decide/index.ts";
import {
  checkPolicyFile,
  combineFiles,
  type CheckedFile,
  type FileRead,
} from "../document/index.ts";
import { PolicyAssembler } from "./assemble.ts";
import { DocumentCache } from "./document-cache.ts";
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
  #files = new DocumentCache<CheckedFile>();
  #assembler = new PolicyAssembler();
  readonly #parser = new DocumentParser();
  /** What the files held at the last load, to skip loads that would change nothing. */
  #applied: readonly FileRead[] | undefined;
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
    const texts = await Promise.all(
      [policyFile, ...pinsFiles].map((file) =>
        readFile(file, "utf8").then(
          (text): FileRead => ({ file, text }),
          (error: unknown): FileRead => ({ file, error: (error as Error).message }),
        ),
      ),
    );
    // Compared read by read (not through a JSON copy of every text: 10 MB for 100k pins).
    if (!whole && this.#applied !== undefined && sameReads(this.#applied, texts)) return;
    this.#applied = texts;
    // Each file is checked once per text: an edit of one file reads only that file again.
    const files = await Promise.all(
      texts.map((read, index) =>
        "error" in read
          ? Promise.resolve(checkPolicyFile(read, index === 0))
          : this.#files.load(`${read.file}\n${String(index)}`, read.text, () =>
              this.#parser.file(read.file, read.text, index === 0),
            ),
      ),
    );
    const { policy, pins } = combineFiles(files, policyFile);
    const assembled = this.#assembler.assemble(policy, pins);
    if (!assembled.ok && !whole && this.#parser.differences > 0) {
      // Pins read as differences may carry the line they had before: read everything whole once
      // more so that every issue names the right line.
      this.#parser.forget();
      this.#files = new DocumentCache<CheckedFile>();
      this.#assembler = new PolicyAssembler();
      await this.#load(true);
      return;
    }
    if (assembled.ok) this.#holder.accept(assembled.policy);
    else this.#holder.reject(assembled.issues);
  }
}

function sameReads(a: readonly FileRead[], b: readonly FileRead[]): boolean {
  return (
    a.length === b.length &&
    a.every((read, i) => {
      const other = b[i];
      if (other?.file !== read.file) return false;
      return "text" in read
        ? "text" in other && other.text === read.text
        : "error" in other && other.error === read.error;
    })
  );
}
