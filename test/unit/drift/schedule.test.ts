import test from "ava";
import { runPass, spreadOffsets } from "../../../src/drift/index.ts";

// The drift scan's schedule: requests spread evenly over the interval, concurrency-bounded,
// a registry's Retry-After honoured. Run on a virtual clock.

/** A clock whose time moves only when every task waits: sleeps end in order of their end. */
function virtualClock() {
  let now = 0;
  const timers: { at: number; resolve: () => void }[] = [];
  return {
    now: () => now,
    sleep: (ms: number) =>
      new Promise<void>((resolve) => {
        timers.push({ at: now + ms, resolve });
      }),
    async run<T>(work: Promise<T>): Promise<T> {
      const state = { done: false };
      const result = work.finally(() => {
        state.done = true;
      });
      const finished = () => state.done;
      while (!finished()) {
        for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
        if (finished()) break;
        timers.sort((a, b) => a.at - b.at);
        const next = timers.shift();
        if (next === undefined) throw new Error("deadlock: nothing to wait for");
        now = Math.max(now, next.at);
        next.resolve();
      }
      return result;
    },
  };
}

test("spreadOffsets: evenly over the interval, the first at once", (t) => {
  t.deepEqual(spreadOffsets(4, 1000), [0, 250, 500, 750]);
  t.deepEqual(spreadOffsets(3, 1000), [0, 333, 666]);
  t.deepEqual(spreadOffsets(1, 3_600_000), [0]);
  t.deepEqual(spreadOffsets(0, 1000), []);
  const many = spreadOffsets(10_000, 3_600_000);
  t.is(many.length, 10_000);
  t.true(many.every((offset, i) => i === 0 || offset - many[i - 1]! >= 359));
  t.true(many.at(-1)! < 3_600_000);
});

interface Item {
  readonly name: string;
  readonly registry: string;
  readonly takes: number;
  readonly retryAfter?: number;
}

async function pass(items: Item[], intervalMs: number, concurrency: number) {
  const clock = virtualClock();
  const starts: [string, number][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const results = await clock.run(
    runPass<Item, string>({
      items,
      intervalMs,
      concurrency,
      registryOf: (item) => item.registry,
      run: async (item) => {
        starts.push([item.name, clock.now()]);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await clock.sleep(item.takes);
        inFlight--;
        return `${item.name} ok`;
      },
      retryAfterMs: (result) => items.find((i) => `${i.name} ok` === result)?.retryAfter,
      paused: (item, until) => `${item.name} paused until ${until}`,
      now: clock.now,
      sleep: clock.sleep,
      signal: new AbortController().signal,
    }),
  );
  return { starts, results, maxInFlight, end: clock.now() };
}

test("runPass: each request at its offset when the registry is quick", async (t) => {
  const items = ["a", "b", "c", "d"].map((name) => ({ name, registry: "r", takes: 10 }));
  const { starts, results, maxInFlight } = await pass(items, 1000, 4);
  t.deepEqual(starts, [
    ["a", 0],
    ["b", 250],
    ["c", 500],
    ["d", 750],
  ]);
  t.deepEqual(results, ["a ok", "b ok", "c ok", "d ok"]);
  t.is(maxInFlight, 1);
});

test("runPass: a slow registry delays the next start instead of exceeding the concurrency", async (t) => {
  const items = ["a", "b", "c", "d"].map((name) => ({ name, registry: "r", takes: 600 }));
  const { starts, maxInFlight } = await pass(items, 1000, 2);
  t.deepEqual(starts, [
    ["a", 0],
    ["b", 250],
    ["c", 600], // a slot frees when a ends
    ["d", 850],
  ]);
  t.is(maxInFlight, 2);
});

test("runPass: Retry-After pauses that registry only; past the scan's end its items are not asked", async (t) => {
  const items: Item[] = [
    { name: "a1", registry: "a", takes: 10, retryAfter: 300 },
    { name: "b1", registry: "b", takes: 10 },
    { name: "a2", registry: "a", takes: 10, retryAfter: 5000 },
    { name: "b2", registry: "b", takes: 10 },
    { name: "a3", registry: "a", takes: 10 },
  ];
  const { starts, results } = await pass(items, 1000, 4);
  t.deepEqual(starts, [
    ["a1", 0],
    ["b1", 200],
    ["a2", 400], // at its offset, after a1's pause (until 310)
    ["b2", 600],
  ]);
  t.is(results[4], "a3 paused until 5410");
});

test("runPass: a registry's rate-limit headers ration its requests; the rest are paused, other registries go on", async (t) => {
  // "hub" counts every request in a 10 s window of 10 and had 4 used: the first answer says
  // 5 left, the reserve is 2, so 3 more may be spent over the window, one every 3.3 s.
  const clock = virtualClock();
  let used = 4;
  const starts: [string, number][] = [];
  const waits: [string, number][] = [];
  const items = ["h1", "h2", "h3", "o1", "h4", "h5"].map((name) => ({
    name,
    registry: name.startsWith("h") ? "hub" : "other",
  }));
  const results = await clock.run(
    runPass<{ name: string; registry: string }, { text: string; remaining?: number }>({
      items,
      intervalMs: 6000,
      concurrency: 1,
      registryOf: (item) => item.registry,
      run: async (item) => {
        starts.push([item.name, clock.now()]);
        await clock.sleep(10);
        if (item.registry !== "hub") return { text: `${item.name} ok` };
        used++;
        return { text: `${item.name} ok`, remaining: 10 - used };
      },
      retryAfterMs: () => undefined,
      rateLimitOf: (result) =>
        result.remaining === undefined
          ? undefined
          : { remaining: result.remaining, limit: 10, windowMs: 10_000 },
      onRateLimitWait: (item, _registry, until) => waits.push([item.name, until]),
      paused: (item, until, why) => ({ text: `${item.name} paused until ${until}: ${why}` }),
      now: clock.now,
      sleep: clock.sleep,
      signal: new AbortController().signal,
    }),
  );
  t.deepEqual(starts, [
    ["h1", 0],
    ["o1", 3000], // at its offset: the other registry does not wait behind hub's queue
    ["h2", 3344], // 10 + 10 s / 3 (its offset was 1000): 4 planned, 3 spare
    ["h4", 4000], // 2 spare after h2, and 2 planned (h4, h5): at its offset
    ["h5", 5000],
  ]);
  t.deepEqual(waits, [["h2", 3344]]);
  t.is(
    results[2]?.text,
    // Decided while h2 was in flight (counted as sent): the next spare request would be at 6677.
    "h3 paused until 6677: the registry said 5 of 10 requests left in its 10 s window, 2 kept for admission: 3 spread over 10 s",
  );
  // The registry was never taken below the reserve of 2.
  t.is(10 - used, 2);
});

test("runPass: a registry waiting for its Retry-After holds no slot; another registry's requests start on time", async (t) => {
  const items: Item[] = [
    { name: "a1", registry: "a", takes: 10, retryAfter: 600 },
    { name: "a2", registry: "a", takes: 10 },
    { name: "b1", registry: "b", takes: 10 },
    { name: "b2", registry: "b", takes: 10 },
  ];
  const { starts, results, maxInFlight } = await pass(items, 1000, 1);
  t.deepEqual(starts, [
    ["a1", 0],
    ["b1", 500], // at its offset, although a2 (offset 250) still waits
    ["a2", 610], // a1's Retry-After: 10 + 600
    ["b2", 750],
  ]);
  t.deepEqual(results, ["a1 ok", "a2 ok", "b1 ok", "b2 ok"]);
  t.is(maxInFlight, 1, "the concurrency still holds");
});
