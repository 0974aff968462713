import type { PinRecord } from "../document/index.ts";

/** A pin that uses a digest: as its (index) digest, or as the digest of one platform. */
export interface DigestUse {
  readonly key: string;
  /** The key's repository name, `registry/repository`. */
  readonly repository: string;
  /** null: the pin's own digest; otherwise the platform (`linux/arm64`) it is recorded for. */
  readonly platform: string | null;
}

const NO_USES: readonly DigestUse[] = [];

/**
 * The pins of one policy generation, immutable: lookup by canonical `registry/repository:tag`
 * and, for `repository@digest` references, by digest. Build it with mergePins (which checks
 * that no key is pinned twice); building is linear in the number of pins.
 */
export class PinIndex {
  static readonly empty = new PinIndex([]);

  readonly #pins = new Map<string, PinRecord>();
  /** digest → the pins using it (usually one: one array per digest keeps building cheap). */
  readonly #byDigest = new Map<string, DigestUse[]>();

  /** `records` must have distinct keys; a later record replaces an earlier one. */
  constructor(records: Iterable<PinRecord>) {
    for (const record of records) this.#pins.set(record.key, record);
    for (const record of this.#pins.values()) {
      const repository = repositoryOfKey(record.key);
      this.#index(record.digest, { key: record.key, repository, platform: null });
      if (record.platforms === undefined) continue;
      for (const [platform, digest] of Object.entries(record.platforms)) {
        this.#index(digest, { key: record.key, repository, platform });
      }
    }
    Object.freeze(this);
  }

  get size(): number {
    return this.#pins.size;
  }

  /** The pin of canonical key `registry/repository:tag`. */
  get(key: string): PinRecord | undefined {
    return this.#pins.get(key);
  }

  /** The pins of repository `name` (`registry/repository`) whose digest or a platform's is `digest`. */
  usesOf(name: string, digest: string): readonly DigestUse[] {
    const uses = this.#byDigest.get(digest);
    return uses === undefined ? NO_USES : uses.filter((use) => use.repository === name);
  }

  /** The repositories (`registry/repository`) with a pin using `digest`. */
  repositoriesWith(digest: string): ReadonlySet<string> {
    return new Set(this.#byDigest.get(digest)?.map((use) => use.repository));
  }

  records(): IterableIterator<PinRecord> {
    return this.#pins.values();
  }

  #index(digest: string, use: DigestUse): void {
    const uses = this.#byDigest.get(digest);
    if (uses === undefined) this.#byDigest.set(digest, [use]);
    else uses.push(use);
  }
}

/** `docker.io/library/busybox:1.36` → `docker.io/library/busybox` (a tag has no ":" or "/"). */
export function repositoryOfKey(key: string): string {
  const colon = key.lastIndexOf(":");
  return colon > key.lastIndexOf("/") ? key.slice(0, colon) : key;
}
