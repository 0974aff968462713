// Label sets of a metric, each found by its values through nested Maps (no key string built),
// and what the metric keeps for it, made the first time that set is seen.

export class LabelTree<T> {
  readonly #metric: string;
  readonly #names: readonly string[];
  readonly #root = new Map<string, unknown>();

  constructor(metric: string, names: readonly string[]) {
    this.#metric = metric;
    this.#names = names;
  }

  /** What is kept for these label values (in `names` order); `make` makes it the first time. */
  find(values: readonly string[], make: (labels: Readonly<Record<string, string>>) => T): T {
    if (values.length !== this.#names.length)
      throw new TypeError(`${this.#metric}: ${String(this.#names.length)} label values expected`);
    let level = this.#root;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      const value = values[i] ?? "";
      let next = level.get(value) as Map<string, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(value, next);
      }
      level = next;
    }
    const value = last < 0 ? "" : (values[last] ?? "");
    let kept = level.get(value) as T | undefined;
    if (kept === undefined) {
      kept = make(this.#labelsOf(values));
      level.set(value, kept);
    }
    return kept;
  }

  #labelsOf(values: readonly string[]): Record<string, string> {
    const labels: Record<string, string> = {};
    this.#names.forEach((name, i) => {
      labels[name] = values[i] ?? "";
    });
    return labels;
  }
}
