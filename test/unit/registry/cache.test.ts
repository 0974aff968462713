import test from "ava";
import fc from "fast-check";
import { CoalescingCache } from "../../../src/registry/cache.ts";

test("entries expire after their ttl", (t) => {
  let now = 0;
  const cache = new CoalescingCache<string>({ maxEntries: 10, now: () => now });
  cache.set("k", "v", 100);
  now = 99;
  t.is(cache.get("k"), "v");
  now = 100;
  t.is(cache.get("k"), undefined);
});

test("the least recently used entry is evicted past the bound", (t) => {
  const cache = new CoalescingCache<number>({ maxEntries: 2 });
  cache.set("a", 1, 1000);
  cache.set("b", 2, 1000);
  cache.get("a");
  cache.set("c", 3, 1000);
  t.is(cache.get("b"), undefined);
  t.is(cache.get("a"), 1);
  t.is(cache.get("c"), 3);
  t.is(cache.size, 2);
});

test("concurrent misses for one key share one load", async (t) => {
  const cache = new CoalescingCache<number>({ maxEntries: 10 });
  let loads = 0;
  let release!: (n: number) => void;
  const load = () => {
    loads++;
    return new Promise<number>((resolve) => (release = resolve));
  };
  const waiting = Array.from({ length: 1000 }, () => cache.getOrLoad("k", load, () => 1000));
  release(42);
  t.deepEqual(new Set(await Promise.all(waiting)), new Set([42]));
  t.is(loads, 1);
  t.is(await cache.getOrLoad("k", load, () => 1000), 42);
  t.is(loads, 1);
});

test("a failed load is not cached and the next caller loads again", async (t) => {
  const cache = new CoalescingCache<number>({ maxEntries: 10 });
  await t.throwsAsync(
    cache.getOrLoad(
      "k",
      () => Promise.reject(new Error("boom")),
      () => 1000,
    ),
  );
  t.is(
    await cache.getOrLoad(
      "k",
      () => Promise.resolve(7),
      () => 1000,
    ),
    7,
  );
});

test("a ttl of 0 keeps nothing", async (t) => {
  const cache = new CoalescingCache<number>({ maxEntries: 10 });
  await cache.getOrLoad(
    "k",
    () => Promise.resolve(1),
    () => 0,
  );
  t.is(cache.get("k"), undefined);
});

test("an entry set or hit within the last maxEntries / 2 sets and hits is never evicted; values stay right", (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 11 })), { maxLength: 300 }),
      (maxEntries, operations) => {
        const cache = new CoalescingCache<number>({ maxEntries });
        const recent = Math.max(1, Math.floor(maxEntries / 2));
        const lastUse = new Map<string, number>();
        const written = new Map<string, number>();
        operations.forEach(([isSet, n], step) => {
          const key = `k${String(n)}`;
          if (isSet) {
            cache.set(key, step, 60_000);
            written.set(key, step);
            lastUse.set(key, step);
          } else {
            const value = cache.get(key);
            if (value !== undefined) {
              t.is(value, written.get(key) ?? -1);
              lastUse.set(key, step);
            }
          }
          t.true(cache.size <= maxEntries);
          for (const [used, at] of lastUse)
            if (step - at < recent) t.true(cache.has(used), `${used} evicted`);
        });
      },
    ),
  );
});
