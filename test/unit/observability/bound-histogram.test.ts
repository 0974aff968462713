import test from "ava";
import fc from "fast-check";
import { Histogram, Registry } from "prom-client";
import { BoundHistogram } from "../../../src/observability/bound-histogram.ts";

// The review duration histogram is digestpin's own (an observation costs no label hashing);
// /metrics must show it exactly as prom-client's Histogram would, in text and in JSON.

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function pair() {
  const ours = new Registry();
  const theirs = new Registry();
  const config = { name: "t_duration_seconds", help: "Time.", buckets: BUCKETS };
  const bound = new BoundHistogram({ ...config, labelNames: ["endpoint"], registers: [ours] });
  const plain = new Histogram({ ...config, labelNames: ["endpoint"], registers: [theirs] });
  return { ours, theirs, bound, plain };
}

/** prom-client's JSON lines carry `exemplar: null` (or undefined) when none is kept. */
function withoutExemplars(metrics: readonly object[]): object[] {
  return JSON.parse(
    JSON.stringify(metrics, (key, value: unknown) =>
      key === "exemplar" && value === null ? undefined : value,
    ),
  ) as object[];
}

const observation = fc.record({
  endpoint: fc.constantFrom("mutate", "validate", 'a"b\\c'),
  // Values on the bucket bounds too: `le` is inclusive.
  value: fc.oneof(fc.constantFrom(...BUCKETS, 0, 11), fc.double({ min: 0, max: 20, noNaN: true })),
});

test("what /metrics shows equals prom-client's Histogram, text and JSON", async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(observation, { maxLength: 40 }), async (observations) => {
      const { ours, theirs, bound, plain } = pair();
      for (const { endpoint, value } of observations) {
        bound.labels(endpoint).observe(value);
        plain.observe({ endpoint }, value);
      }
      t.is(await ours.metrics(), await theirs.metrics());
      t.deepEqual(await ours.getMetricsAsJSON(), withoutExemplars(await theirs.getMetricsAsJSON()));
    }),
    { numRuns: 200 },
  );
});

test("reset forgets every observation, as prom-client's does", async (t) => {
  const { ours, theirs, bound, plain } = pair();
  bound.labels("mutate").observe(0.002);
  plain.observe({ endpoint: "mutate" }, 0.002);
  ours.resetMetrics();
  theirs.resetMetrics();
  t.is(await ours.metrics(), await theirs.metrics());
  bound.labels("mutate").observe(0.3);
  plain.observe({ endpoint: "mutate" }, 0.3);
  t.is(await ours.metrics(), await theirs.metrics());
  t.regex(await ours.metrics(), /^t_duration_seconds_count\{endpoint="mutate"\} 1$/m);
});

test("a value that is not a finite number or the wrong label count is refused", (t) => {
  const { bound } = pair();
  t.throws(
    () => {
      bound.labels("mutate").observe(Number.NaN);
    },
    { instanceOf: TypeError },
  );
  t.throws(
    () => {
      bound.labels("mutate").observe(Infinity);
    },
    { instanceOf: TypeError },
  );
  t.throws(() => bound.labels(), { message: /1 label values expected/ });
});
