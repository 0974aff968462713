import type { PinRecord } from "../document/index.ts";

/** A pin that uses a digest: as its (index) digest, or as the digest of one platform. */
export interface DigestUse {
  readonly key: string;
  /** The key's repository name, `registry/repository`. */
  readonly repository: string;
  /** null: the pin's own digest; otherwise the platform (`linux/arm64`) it is recorded for. */
  readonly platform: string | null;
}

/** A change of pins: a key's new record, or null when the key is no longer pinned. */
export type PinChanges = ReadonlyMap<string, PinRecord | null>;

/**
 * The pins using one digest: the record itself when it is the one use and uses it as its own
 * digest (nearly every digest: no object made per pin), else the uses, in the order added.
 */
type Uses = PinRecord | readonly DigestUse[];

const NO_USES: readonly DigestUse[] = [];
/** Keys (and digests) are spread over this many maps; an edit copies only the ones it touches. */
const BUCKETS = 256;
const EMPTY_BUCKET: ReadonlyMap<string, never> = new Map<string, never>();
const EMPTY: readonly ReadonlyMap<string, never>[] = Array.from(
  { length: BUCKETS },
  () => EMPTY_BUCKET,
);

/**
 * The pins of one policy generation, immutable: lookup by canonical `registry/repository:tag`
 * and, for `repository@digest` references, by digest. A new generation is made from the last
 * one with `with(changes)`, which copies only the buckets the changed keys fall in (1/256 of
 * the pins each) and shares the rest, so adding one pin to 100,000 costs microseconds, and a
 * review holding the old generation never sees the new one. Build it with mergePins or
 * PinMerge (which check that no key is pinned twice).
 */
export class PinIndex {
  static readonly empty = new PinIndex(EMPTY, EMPTY, 0);

  readonly #pins: readonly ReadonlyMap<string, PinRecord>[];
  /** digest → the pins using it (usually one). Arrays are never changed once published. */
  readonly #byDigest: readonly ReadonlyMap<string, Uses>[];
  readonly #size: number;

  private constructor(
    pins: readonly ReadonlyMap<string, PinRecord>[],
    byDigest: readonly ReadonlyMap<string, Uses>[],
    size: number,
  ) {
    this.#pins = pins;
    this.#byDigest = byDigest;
    this.#size = size;
    Object.freeze(this);
  }

  /** The index of `records` (distinct keys; a later record replaces an earlier one). */
  static of(records: Iterable<PinRecord>): PinIndex {
    const changes = new Map<string, PinRecord>();
    for (const record of records) changes.set(record.key, record);
    return PinIndex.empty.with(changes);
  }

  get size(): number {
    return this.#size;
  }

  /** The pin of canonical key `registry/repository:tag`. */
  get(key: string): PinRecord | undefined {
    return this.#pins[bucketOf(key)]?.get(key);
  }

  /** The pins of repository `name` (`registry/repository`) whose digest or a platform's is `digest`. */
  usesOf(name: string, digest: string): readonly DigestUse[] {
    return this.#uses(digest).filter((use) => use.repository === name);
  }

  /** The repositories (`registry/repository`) with a pin using `digest`. */
  repositoriesWith(digest: string): ReadonlySet<string> {
    return new Set(this.#uses(digest).map((use) => use.repository));
  }

  #uses(digest: string): readonly DigestUse[] {
    const uses = this.#byDigest[bucketOf(digest)]?.get(digest);
    return uses === undefined ? NO_USES : listOf(uses);
  }

  *records(): IterableIterator<PinRecord> {
    for (const bucket of this.#pins) yield* bucket.values();
  }

  /** A new index: this one with `changes` applied. This one is left as it is. */
  with(changes: PinChanges): PinIndex {
    const edit = new IndexEdit(this.#pins, this.#byDigest, this.#size);
    for (const [key, record] of changes) edit.set(key, record);
    return edit.changed ? new PinIndex(edit.pins, edit.byDigest, edit.size) : this;
  }
}

/** The buckets of a new generation while it is made: each copied once, on its first change. */
class IndexEdit {
  readonly pins: ReadonlyMap<string, PinRecord>[];
  readonly byDigest: ReadonlyMap<string, Uses>[];
  size: number;
  changed = false;
  readonly #ownPins = new Set<number>();
  readonly #ownDigests = new Set<number>();
  /** Use arrays made by this edit: safe to append to (no published index holds them). */
  readonly #ownUses = new WeakSet<readonly DigestUse[]>();

  constructor(
    pins: readonly ReadonlyMap<string, PinRecord>[],
    byDigest: readonly ReadonlyMap<string, Uses>[],
    size: number,
  ) {
    this.pins = [...pins];
    this.byDigest = [...byDigest];
    this.size = size;
  }

  set(key: string, record: PinRecord | null): void {
    const index = bucketOf(key);
    const old = this.pins[index]?.get(key);
    if (old === record || (old === undefined && record === null)) return;
    this.changed = true;
    const bucket = this.#pinBucket(index);
    if (old !== undefined) {
      this.#unindex(old);
      bucket.delete(key);
      this.size -= 1;
    }
    if (record !== null) {
      bucket.set(key, record);
      this.#index(record);
      this.size += 1;
    }
  }

  #pinBucket(index: number): Map<string, PinRecord> {
    if (!this.#ownPins.has(index)) {
      this.pins[index] = new Map(this.pins[index]);
      this.#ownPins.add(index);
    }
    return this.pins[index] as Map<string, PinRecord>;
  }

  #digestBucket(index: number): Map<string, Uses> {
    if (!this.#ownDigests.has(index)) {
      this.byDigest[index] = new Map(this.byDigest[index]);
      this.#ownDigests.add(index);
    }
    return this.byDigest[index] as Map<string, Uses>;
  }

  #index(record: PinRecord): void {
    this.#addUse(record.digest, record);
    const platforms = Object.entries(record.platforms ?? {});
    if (platforms.length === 0) return;
    const repository = repositoryOfKey(record.key);
    for (const [platform, digest] of platforms)
      this.#addUse(digest, { key: record.key, repository, platform });
  }

  #unindex(record: PinRecord): void {
    for (const digest of [record.digest, ...Object.values(record.platforms ?? {})]) {
      const bucket = this.#digestBucket(bucketOf(digest));
      const uses = bucket.get(digest);
      if (uses === undefined) continue;
      const left = listOf(uses).filter((use) => use.key !== record.key);
      if (left.length === 0) bucket.delete(digest);
      else {
        bucket.set(digest, left);
        this.#ownUses.add(left);
      }
    }
  }

  /** `use`: a pin's own digest (the record), or a platform's. */
  #addUse(digest: string, use: PinRecord | DigestUse): void {
    const bucket = this.#digestBucket(bucketOf(digest));
    const uses = bucket.get(digest);
    if (uses === undefined) {
      bucket.set(digest, "digest" in use ? use : [use]);
      return;
    }
    if (isArray(uses) && this.#ownUses.has(uses)) {
      (uses as DigestUse[]).push(asUse(use));
      return;
    }
    const next = [...listOf(uses), asUse(use)];
    this.#ownUses.add(next);
    bucket.set(digest, next);
  }
}

function isArray(uses: Uses): uses is readonly DigestUse[] {
  return Array.isArray(uses);
}

/** The uses of one digest as a list. */
function listOf(uses: Uses): readonly DigestUse[] {
  return isArray(uses) ? uses : [asUse(uses)];
}

/** A pin's use of its own digest, or a platform's use as it is. */
function asUse(use: PinRecord | DigestUse): DigestUse {
  return "digest" in use
    ? { key: use.key, repository: repositoryOfKey(use.key), platform: null }
    : use;
}

/** FNV-1a of `text`, to a bucket. */
function bucketOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) & (BUCKETS - 1);
}

/** `docker.io/library/busybox:1.36` → `docker.io/library/busybox` (a tag has no ":" or "/"). */
export function repositoryOfKey(key: string): string {
  const colon = key.lastIndexOf(":");
  return colon > key.lastIndexOf("/") ? key.slice(0, colon) : key;
}
