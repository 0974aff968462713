/**
 * A bounded least-recently-used map whose entries expire, plus coalescing of concurrent
 * misses: while one load of a key is in flight, every caller for that key awaits it, so a
 * burst of identical admission reviews costs the registry one request.
 */
export class CoalescingCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #inflight = new Map<string, Promise<V>>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { maxEntries: number; now?: () => number }) {
    this.#maxEntries = options.maxEntries;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= this.#now()) return undefined;
    this.#entries.set(key, entry); // most recently used goes last
    return entry.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    this.#entries.delete(key);
    if (ttlMs <= 0) return;
    this.#entries.set(key, { value, expiresAt: this.#now() + ttlMs });
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  /**
   * The cached value, or the result of `load` shared with every concurrent caller of the same
   * key. `ttlOf` says how long a loaded value stays (0 = not cached).
   */
  async getOrLoad(key: string, load: () => Promise<V>, ttlOf: (value: V) => number): Promise<V> {
    const cached = this.get(key);
    if (cached !== undefined) return cached;
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
