import type { AtOnce } from "../at-once.ts";

interface Entry<V> {
  readonly value: V;
  readonly expiresAt: number;
  /** The value of #moves when the entry last went to the back of the map. */
  moved: number;
}

/**
 * A bounded least-recently-used map whose entries expire, plus coalescing of concurrent
 * misses: while one load of a key is in flight, every caller for that key awaits it, so a
 * burst of identical admission reviews costs the registry one request.
 *
 * Recency is kept by map order (the back is the most recent). A hit moves its entry to the back
 * only when at least half the bound's worth of entries (maxEntries / 2) went there since it
 * last did. An entry that recent cannot be at the front of a full map, so what is evicted is
 * always an entry unused for at least that many insertions and moves (nearly LRU), and the hits
 * of a busy webhook on a few images are a lookup and a clock read, no delete and re-insert.
 */
export class CoalescingCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #inflight = new Map<string, Promise<V>>();
  readonly #maxEntries: number;
  readonly #moveAfter: number;
  readonly #now: () => number;
  /** Entries put at the back of the map so far (insertions and moves). */
  #moves = 0;

  constructor(options: { maxEntries: number; now?: () => number }) {
    this.#maxEntries = options.maxEntries;
    this.#moveAfter = Math.max(1, Math.floor(options.maxEntries / 2));
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Whether `key` has an unexpired entry; unlike get, it leaves the recency order as it is. */
  has(key: string): boolean {
    const entry = this.#entries.get(key);
    return entry !== undefined && entry.expiresAt > this.#now();
  }

  get(key: string): V | undefined {
    return this.#entry(key)?.value;
  }

  /** The unexpired entry of `key`, as get() finds it: also a value that is undefined. */
  #entry(key: string): { readonly value: V } | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    if (this.#moves - entry.moved >= this.#moveAfter) {
      this.#entries.delete(key);
      this.#entries.set(key, entry); // most recently used goes last
      entry.moved = ++this.#moves;
    }
    return entry;
  }

  set(key: string, value: V, ttlMs: number): void {
    this.#entries.delete(key);
    if (ttlMs <= 0) return;
    this.#entries.set(key, { value, expiresAt: this.#now() + ttlMs, moved: ++this.#moves });
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  /** getNowOrLoad, always as a promise. */
  async getOrLoad(key: string, load: () => Promise<V>, ttlOf: (value: V) => number): Promise<V> {
    return this.getNowOrLoad(key, load, ttlOf);
  }

  /**
   * The cached value at once (an undefined one too: a Secret found missing stays missing for
   * its time), or the promise of `load`'s, shared with every concurrent caller of the same key.
   * `ttlOf` says how long a loaded value stays (0 = not cached).
   */
  getNowOrLoad(key: string, load: () => Promise<V>, ttlOf: (value: V) => number): AtOnce<V> {
    const cached = this.#entry(key);
    if (cached !== undefined) return cached.value;
    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      const loading: Promise<V> = load().then((value) => {
        // Not when the key was forgotten meanwhile: the answer may be from before the change.
        if (this.#inflight.get(key) === loading) this.set(key, value, ttlOf(value));
        return value;
      });
      pending = loading;
      const settled = () => {
        if (this.#inflight.get(key) === loading) this.#inflight.delete(key);
      };
      pending.then(settled, settled);
      this.#inflight.set(key, pending);
    }
    return pending;
  }

  clear(): void {
    this.#entries.clear();
    this.#inflight.clear();
  }

  /** Forgets the keys `forget` selects, cached or loading (a load in flight is not cached). */
  deleteWhere(forget: (key: string) => boolean): void {
    for (const key of this.#entries.keys()) if (forget(key)) this.#entries.delete(key);
    for (const key of this.#inflight.keys()) if (forget(key)) this.#inflight.delete(key);
  }
}
