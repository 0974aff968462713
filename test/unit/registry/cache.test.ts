import test from "ava";
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
