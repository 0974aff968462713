import test from "ava";
import { allOf, andThen, recover } from "../../src/at-once.ts";

// Values at hand pass on at once (no promise made); a promise anywhere makes the result one.

test("andThen: at once for a value, a promise for a promise, failures to `failed`", async (t) => {
  t.is(
    andThen(2, (n) => n * 3),
    6,
  );
  const later = andThen(Promise.resolve(2), (n) => n * 3);
  t.true(later instanceof Promise);
  t.is(await later, 6);
  const failed = andThen(
    Promise.reject(new Error("down")),
    () => "served",
    (error) => `failed: ${(error as Error).message}`,
  );
  t.is(await failed, "failed: down");
});

test("allOf: the values at once when all are at hand, else the promise of all in order", async (t) => {
  t.deepEqual(allOf([1, 2, 3]), [1, 2, 3]);
  const some = allOf([1, Promise.resolve(2), 3]);
  t.true(some instanceof Promise);
  t.deepEqual(await some, [1, 2, 3]);
  await t.throwsAsync(async () => allOf([1, Promise.reject(new Error("down"))]), {
    message: "down",
  });
});

test("recover: a value at once, a throw or a rejection turned into failed's value", async (t) => {
  const failed = (error: unknown) => `failed: ${(error as Error).message}`;
  t.is(
    recover(() => "served", failed),
    "served",
  );
  t.is(
    recover(() => {
      throw new Error("at once");
    }, failed),
    "failed: at once",
  );
  const later = recover(() => Promise.reject(new Error("later")), failed);
  t.true(later instanceof Promise);
  t.is(await later, "failed: later");
});
