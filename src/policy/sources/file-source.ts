import { readFile } from "node:fs/promises";
import type { Policy } from "../decide/index.ts";
import { checkPolicyFile, combineFiles, type CheckedFile } from "../document/index.ts";
import { PolicyAssembler } from "./assemble.ts";
import { collectGarbage } from "./collect-garbage.ts";
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
  #applied: readonly FileState[] | undefined;
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
    // While no policy is served nothing can stall: files are checked at once, and the worker
    // (with its memory) is started by the first edit.
    const atOnce = this.#holder.current() === undefined;
    const files = [policyFile, ...pinsFiles];
    // Each file is checked once per content: an edit of one file reads only that file again.
    const before = this.#applied;
    const applied = await Promise.all(
      files.map((file, index) =>
        this.#check(file, index === 0, whole ? undefined : before?.[index], atOnce),
      ),
    );
    if (before !== undefined && applied.every((state, index) => state === before[index])) return;
    // A first load's reading garbage is collected before the pins are merged and indexed, so
    // the two do not add up to the load's peak (nothing is served yet: this stalls no review).
    if (atOnce) collectGarbage();
    this.#applied = applied;
    const { policy, pins } = combineFiles(
      this.#applied.map((read) => read.checked),
      policyFile,
    );
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
    // And what merging left (most of the heap at 100,000 pins): an idle webhook keeps it for good.
    if (atOnce) collectGarbage();
  }

  /**
   * One file read and checked; `before` itself when its bytes are those of the last load. A
   * large file, once checked, is read by the worker: its 10 MB at 100,000 pins never come to
   * the main thread again. Others are read here as bytes (memory outside the JavaScript heap)
   * and compared byte for byte.
   */
  async #check(
    file: string,
    first: boolean,
    before: FileState | undefined,
    atOnce: boolean,
  ): Promise<FileState> {
    if (!atOnce && this.#parser.reads(file)) {
      const read = await this.#parser.readFile(file, first);
      if (read === "unchanged" && before !== undefined) return before;
      if (read !== undefined && read !== "unchanged")
        return "error" in read
          ? unreadable(file, first, read.error, before)
          : { file, checked: read };
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (error) {
      return unreadable(file, first, (error as Error).message, before);
    }
    if (before?.bytes?.equals(bytes) === true) return before;
    if (atOnce) {
      const checked = this.#parser.fileAtOnce(file, bytes, first);
      // A file the worker reads from now on is handed to it: not kept here.
      return this.#parser.reads(file) ? { file, checked } : { file, bytes, checked };
    }
    const checked = await this.#parser.file(file, bytes, first);
    return this.#parser.reads(file) ? { file, checked } : { file, bytes, checked };
  }
}

/** A file as last checked: its bytes when they are kept here, or why it could not be read. */
interface FileState {
  readonly file: string;
  readonly checked: CheckedFile;
  readonly bytes?: Buffer;
  readonly error?: string;
}

/** A file that could not be read; `before` itself when it could not be read for the same reason. */
function unreadable(
  file: string,
  first: boolean,
  error: string,
  before: FileState | undefined,
): FileState {
  if (before?.error === error) return before;
  return { file, error, checked: checkPolicyFile({ file, error }, first) };
}
