import { createHash, type Hash } from "node:crypto";
import { LayerError } from "./errors.ts";
import {
  BLOCK,
  decodeHeader,
  isZeroBlock,
  parsePax,
  xattrValue,
  type RawHeader,
} from "./tar-header.ts";

export type EntryType = "file" | "hardlink" | "symlink" | "char" | "block" | "dir" | "fifo";

/** One member of a tar archive: its metadata, never its contents. */
export interface TarEntry {
  /** The name as archived (long names from PAX or GNU headers), not normalized. */
  readonly path: string;
  readonly type: EntryType;
  /** Permission bits with setuid, setgid and sticky (`& 0o7777`). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Bytes of content (regular files; 0 for the rest). */
  readonly size: number;
  readonly mtime: number;
  /** Symlink target or hardlink target path; "" for other types. */
  readonly linkname: string;
  readonly devmajor: number;
  readonly devminor: number;
  /** Extended attributes (PAX `SCHILY.xattr.*`) by name; values as xattrValue() keeps them. */
  readonly xattrs: Readonly<Record<string, string>> | undefined;
  /** `sha256:…` of the content, when the parser was asked to hash this entry. */
  readonly digest: string | undefined;
}

export interface TarParserOptions {
  /** Whether to hash an entry's content (regular files); default none. */
  readonly hash?: (path: string) => boolean;
  /** Largest PAX or GNU long-name record kept in memory (default 1 MiB). */
  readonly maxMetaBytes?: number;
}

const TYPES: Readonly<Record<string, EntryType>> = {
  "0": "file",
  "\u0000": "file",
  "7": "file",
  S: "file",
  "1": "hardlink",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "dir",
  D: "dir",
  "6": "fifo",
};
/** Members that describe the next one (or all that follow), or that hold no file. */
const META = new Set(["x", "g", "L", "K", "X"]);
const SKIPPED = new Set(["V", "M", "N"]);

type State =
  | { readonly kind: "header" }
  | { kind: "data"; remaining: number; padding: number; entry: TarEntry; hash: Hash | undefined }
  | { kind: "meta"; remaining: number; padding: number; flag: string; chunks: Buffer[] }
  | { kind: "skip"; remaining: number }
  | { readonly kind: "end" };

/**
 * A streaming tar reader: feed it the archive's bytes in chunks of any size with `write`, and it
 * calls `onEntry` with each member's metadata as soon as the member has been read. It keeps one
 * header block and the current PAX/long-name record in memory, never file contents. POSIX
 * ustar, PAX (path, linkpath, size, uid, gid, mtime, SCHILY.xattr), GNU long names and links,
 * base-256 numbers and V7 directories are understood. Bytes after the end-of-archive marker are
 * ignored (the caller still reads them, to verify the blob's digest).
 */
export class TarParser {
  readonly #onEntry: (entry: TarEntry) => void;
  readonly #hash: (path: string) => boolean;
  readonly #maxMeta: number;
  readonly #block = Buffer.alloc(BLOCK);
  #filled = 0;
  #state: State = { kind: "header" };
  #offset = 0;
  #zeroBlocks = 0;
  #entries = 0;
  /** PAX records for the next member (`x`), and for every member that follows (`g`). */
  #local = new Map<string, Buffer>();
  #global = new Map<string, Buffer>();
  #longName: string | undefined;
  #longLink: string | undefined;

  constructor(onEntry: (entry: TarEntry) => void, options: TarParserOptions = {}) {
    this.#onEntry = onEntry;
    this.#hash = options.hash ?? (() => false);
    this.#maxMeta = options.maxMetaBytes ?? 1024 * 1024;
  }

  /** How many members have been reported. */
  get entries(): number {
    return this.#entries;
  }

  /** Whether the end-of-archive marker has been read. */
  get ended(): boolean {
    return this.#state.kind === "end";
  }

  write(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      const state = this.#state;
      if (state.kind === "end") return;
      if (state.kind === "header") {
        const take = Math.min(BLOCK - this.#filled, chunk.length - at);
        chunk.copy(this.#block, this.#filled, at, at + take);
        this.#filled += take;
        at += take;
        this.#offset += take;
        if (this.#filled === BLOCK) {
          this.#filled = 0;
          this.#header(this.#block);
        }
        continue;
      }
      const take = Math.min(
        state.kind === "skip" ? state.remaining : state.remaining + state.padding,
        chunk.length - at,
      );
      this.#consume(state, chunk.subarray(at, at + take));
      at += take;
      this.#offset += take;
    }
  }

  /** The archive ended; throws when it stopped in the middle of a member. */
  end(): void {
    const state = this.#state;
    if (state.kind === "end") return;
    if (state.kind === "header" && this.#filled === 0) return; // no end marker: tolerated
    throw new LayerError(
      "ERR_LAYER_FORMAT",
      `the tar archive is truncated at byte ${this.#offset}${state.kind === "data" ? ` (in ${JSON.stringify(state.entry.path)})` : ""}`,
    );
  }

  #consume(state: Exclude<State, { kind: "header" | "end" }>, bytes: Buffer): void {
    if (state.kind === "skip") {
      state.remaining -= bytes.length;
      if (state.remaining === 0) this.#state = { kind: "header" };
      return;
    }
    const data = Math.min(state.remaining, bytes.length);
    if (data > 0) {
      if (state.kind === "data") state.hash?.update(bytes.subarray(0, data));
      else state.chunks.push(Buffer.from(bytes.subarray(0, data)));
      state.remaining -= data;
    }
    state.padding -= bytes.length - data;
    if (state.remaining > 0 || state.padding > 0) return;
    this.#state = { kind: "header" };
    if (state.kind === "data") {
      const digest = state.hash === undefined ? undefined : `sha256:${state.hash.digest("hex")}`;
      this.#emit({ ...state.entry, digest });
    } else {
      this.#meta(state.flag, Buffer.concat(state.chunks));
    }
  }

  #header(block: Buffer): void {
    if (isZeroBlock(block)) {
      if (++this.#zeroBlocks >= 2) this.#state = { kind: "end" };
      return;
    }
    this.#zeroBlocks = 0;
    const raw = decodeHeader(block);
    if (raw === undefined) {
      throw new LayerError(
        "ERR_LAYER_FORMAT",
        `not a tar archive: bad header checksum at byte ${this.#offset - BLOCK}`,
      );
    }
    const flag = raw.typeflag;
    const padding = (BLOCK - (raw.size % BLOCK)) % BLOCK;
    if (META.has(flag)) {
      if (raw.size > this.#maxMeta) {
        throw new LayerError(
          "ERR_LAYER_FORMAT",
          `a tar extended header of ${raw.size} bytes is larger than ${this.#maxMeta} bytes`,
        );
      }
      this.#state = { kind: "meta", remaining: raw.size, padding, flag, chunks: [] };
      if (raw.size === 0) this.#consume(this.#state, Buffer.alloc(0));
      return;
    }
    const entry = this.#entry(raw);
    const dataSize = this.#local.has("size") || this.#global.has("size") ? entry.size : raw.size;
    this.#local = new Map();
    this.#longName = undefined;
    this.#longLink = undefined;
    if (SKIPPED.has(flag)) {
      this.#skip(dataSize);
      return;
    }
    const file = entry.type === "file";
    const hash = file && this.#hash(entry.path) ? createHash("sha256") : undefined;
    if (!file || dataSize === 0) {
      const digest = hash === undefined ? undefined : `sha256:${hash.digest("hex")}`;
      this.#emit({ ...entry, size: file ? entry.size : 0, digest });
      this.#skip(dataSize);
      return;
    }
    this.#state = {
      kind: "data",
      remaining: dataSize,
      padding: (BLOCK - (dataSize % BLOCK)) % BLOCK,
      entry,
      hash,
    };
  }

  #skip(size: number): void {
    const total = size + ((BLOCK - (size % BLOCK)) % BLOCK);
    this.#state = total === 0 ? { kind: "header" } : { kind: "skip", remaining: total };
  }

  /** The member a header describes, with the PAX and GNU records that precede it applied. */
  #entry(raw: RawHeader): TarEntry {
    const pax = new Map([...this.#global, ...this.#local]);
    const paxText = (key: string) => pax.get(key)?.toString("utf8");
    const paxNumber = (key: string, fallback: number) => {
      const value = Number(paxText(key));
      return paxText(key) !== undefined && Number.isFinite(value) ? value : fallback;
    };
    const path = paxText("path") ?? this.#longName ?? raw.name;
    const linkname = paxText("linkpath") ?? this.#longLink ?? raw.linkname;
    // Unknown type flags are regular files (POSIX); V7 marked directories with a trailing slash.
    let type: EntryType = TYPES[raw.typeflag] ?? "file";
    if (type === "file" && raw.typeflag !== "S" && path.endsWith("/")) type = "dir";
    const xattrs: Record<string, string> = {};
    for (const [key, value] of pax) {
      if (key.startsWith("SCHILY.xattr.")) xattrs[key.slice(13)] = xattrValue(value);
    }
    const size = paxNumber("size", raw.realSize ?? raw.size);
    return {
      path,
      type,
      mode: raw.mode & 0o7777,
      uid: paxNumber("uid", raw.uid),
      gid: paxNumber("gid", raw.gid),
      size,
      mtime: Math.floor(paxNumber("mtime", raw.mtime)),
      linkname: type === "symlink" || type === "hardlink" ? linkname : "",
      devmajor: type === "char" || type === "block" ? raw.devmajor : 0,
      devminor: type === "char" || type === "block" ? raw.devminor : 0,
      xattrs: Object.keys(xattrs).length === 0 ? undefined : xattrs,
      digest: undefined,
    };
  }

  #meta(flag: string, data: Buffer): void {
    if (flag === "L" || flag === "K") {
      const end = data.indexOf(0);
      const name = data.toString("utf8", 0, end === -1 ? data.length : end);
      if (flag === "L") this.#longName = name;
      else this.#longLink = name;
      return;
    }
    const records = parsePax(data);
    if (records === undefined) {
      throw new LayerError("ERR_LAYER_FORMAT", "a tar PAX extended header is malformed");
    }
    if (flag === "g") {
      for (const [key, value] of records) this.#global.set(key, value);
    } else {
      for (const [key, value] of records) this.#local.set(key, value);
    }
  }

  #emit(entry: TarEntry): void {
    this.#entries++;
    this.#onEntry(entry);
  }
}
