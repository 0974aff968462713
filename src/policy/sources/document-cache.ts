import type { DocumentResult } from "../document/index.ts";

/**
 * Parsed documents keyed by where they come from and their version (a ConfigMap's
 * resourceVersion, a file's text): when one ConfigMap of many changes, only it is parsed again.
 */
export class DocumentCache<T = DocumentResult> {
  readonly #entries = new Map<string, { version: string; result: T }>();
  #parses = 0;

  /** How many documents were parsed (cache misses), for tests and logs. */
  get parses(): number {
    return this.#parses;
  }

  /** The result cached for `name` at `version`, or `parse()`'s, cached. */
  get(name: string, version: string, parse: () => T): T {
    const entry = this.#entries.get(name);
    if (entry?.version === version) return entry.result;
    this.#parses++;
    const result = parse();
    this.#entries.set(name, { version, result });
    return result;
  }

  /** get() for a parse that takes time (a worker's): the result when it is done. */
  async load(name: string, version: string, parse: () => Promise<T>): Promise<T> {
    const entry = this.#entries.get(name);
    if (entry?.version === version) return entry.result;
    this.#parses++;
    const result = await parse();
    this.#entries.set(name, { version, result });
    return result;
  }

  /** Forgets every document not in `names` (deleted ConfigMaps, files no longer read). */
  retain(names: ReadonlySet<string>): void {
    for (const name of this.#entries.keys()) if (!names.has(name)) this.#entries.delete(name);
  }
}
