// A Prometheus histogram whose label sets are bound once, as BoundCounter's: an observation is
// a Map lookup, a bucket search and three additions, where prom-client's hashes its labels.
import type { Metric, Registry } from "prom-client";
import { LabelTree } from "./label-tree.ts";

/** One label set of a BoundHistogram. */
export interface HistogramChild {
  observe(value: number): void;
}

/** One label set's observations: per bucket (not cumulative; the last is +Inf), sum, count. */
interface Series {
  readonly labels: Readonly<Record<string, string>>;
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** A line of the exposition, as prom-client's registry writes it. */
interface ValueLine {
  readonly metricName: string;
  readonly labels: Record<string, string | number>;
  readonly sharedLabels?: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * A histogram registered on prom-client registries as its own metric: `/metrics` shows it
 * exactly as a prom-client Histogram of the same name, labels and buckets (`_bucket` lines with
 * `le` first, `_sum`, `_count`).
 */
export class BoundHistogram<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly #bounds: readonly number[];
  readonly #children: LabelTree<HistogramChild>;
  #series: Series[] = [];

  constructor(config: {
    name: string;
    help: string;
    labelNames: readonly L[];
    buckets: readonly number[];
    registers: Registry[];
  }) {
    this.name = config.name;
    this.help = config.help;
    this.#bounds = [...config.buckets].sort((a, b) => a - b);
    this.#children = new LabelTree(config.name, config.labelNames);
    for (const registry of config.registers) registry.registerMetric(this as unknown as Metric);
  }

  /** The child of these label values, in `labelNames` order. */
  labels(...values: string[]): HistogramChild {
    return this.#children.find(values, (labels) => this.#child(labels));
  }

  #child(labels: Readonly<Record<string, string>>): HistogramChild {
    const bounds = this.#bounds;
    const series: Series = {
      labels,
      counts: new Float64Array(bounds.length + 1),
      sum: 0,
      count: 0,
    };
    this.#series.push(series);
    return {
      observe(value) {
        if (!Number.isFinite(value)) throw new TypeError(`histogram value ${String(value)}`);
        let bucket = 0;
        while (bucket < bounds.length && value > (bounds[bucket] ?? Infinity)) bucket++;
        series.counts[bucket] = (series.counts[bucket] ?? 0) + 1;
        series.sum += value;
        series.count++;
      },
    };
  }

  /** For the registry's text format: the lines of every label set observed so far. */
  getForPromString(): { name: string; help: string; type: string; values: ValueLine[] } {
    const values: ValueLine[] = [];
    for (const series of this.#series) {
      if (series.count === 0) continue;
      let cumulative = 0;
      this.#bounds.forEach((bound, i) => {
        cumulative += series.counts[i] ?? 0;
        values.push(this.#line("_bucket", { le: bound }, cumulative, series));
      });
      values.push(this.#line("_bucket", { le: "+Inf" }, series.count, series));
      values.push(this.#line("_sum", {}, series.sum, series));
      values.push(this.#line("_count", {}, series.count, series));
    }
    return { name: this.name, help: this.help, type: this.type, values };
  }

  /** For the registry's JSON: the same lines, each with all its labels. */
  get(): { name: string; help: string; type: string; aggregator: string; values: ValueLine[] } {
    const data = this.getForPromString();
    const values = data.values.map(({ metricName, labels, sharedLabels, value }) => ({
      metricName,
      labels: { ...labels, ...sharedLabels },
      value,
    }));
    return { ...data, aggregator: this.aggregator, values };
  }

  /** Forgets every observation (the registry's resetMetrics). */
  reset(): void {
    for (const series of this.#series) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }

  #line(
    suffix: string,
    labels: Record<string, string | number>,
    value: number,
    series: Series,
  ): ValueLine {
    return { metricName: this.name + suffix, labels, sharedLabels: series.labels, value };
  }
}
