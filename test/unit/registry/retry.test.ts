import test, { type ExecutionContext } from "ava";
import { RegistryError } from "../../../src/registry/errors.ts";
import { parseRetryAfter, withRetry } from "../../../src/registry/retry.ts";

const transient = (status = 503, retryAfterMs?: number) =>
  new RegistryError("ERR_REGISTRY_SERVER", "r.io", "down", {
    status,
    ...(retryAfterMs !== undefined && { retryAfterMs }),
  });

test("transient failures are retried until success", async (t) => {
  let calls = 0;
  const result = await withRetry(
    () => (++calls < 3 ? Promise.reject(transient()) : Promise.resolve("ok")),
    { deadline: Date.now() + 5000, signal: new AbortController().signal, baseDelayMs: 1 },
  );
  t.is(result, "ok");
  t.is(calls, 3);
});

/** How many times withRetry tries an attempt that always fails with `error` (it must throw it). */
async function attemptsFor(t: ExecutionContext, error: RegistryError): Promise<number> {
  let calls = 0;
  await t.throwsAsync(
    withRetry(
      () => {
        calls++;
        return Promise.reject(error);
      },
      { deadline: Date.now() + 5000, signal: new AbortController().signal, baseDelayMs: 1 },
    ),
    { is: error },
  );
  return calls;
}

test("a 500 and a 404 are not retried", async (t) => {
  for (const error of [
    transient(500),
    new RegistryError("ERR_REGISTRY_NOT_FOUND", "r.io", "gone", { status: 404 }),
  ])
    t.is(await attemptsFor(t, error), 1);
});

test("a Retry-After past the deadline ends the retries at once", async (t) => {
  let calls = 0;
  const started = Date.now();
  const limited = new RegistryError("ERR_REGISTRY_RATE_LIMITED", "r.io", "slow down", {
    status: 429,
    retryAfterMs: 60_000,
  });
  await t.throwsAsync(
    withRetry(
      () => {
        calls++;
        return Promise.reject(limited);
      },
      { deadline: Date.now() + 2000, signal: new AbortController().signal },
    ),
    { is: limited },
  );
  t.is(calls, 1);
  t.true(Date.now() - started < 1000);
});

test("Retry-After is honoured when it fits", async (t) => {
  let calls = 0;
  const started = Date.now();
  await withRetry(
    () => (++calls === 1 ? Promise.reject(transient(503, 200)) : Promise.resolve(1)),
    { deadline: Date.now() + 5000, signal: new AbortController().signal, random: () => 0 },
  );
  t.true(Date.now() - started >= 190);
});

test("Retry-After as seconds and as a date", (t) => {
  t.is(parseRetryAfter("3", 0), 3000);
  t.is(parseRetryAfter("Thu, 01 Jan 1970 00:00:10 GMT", 4000), 6000);
  t.is(parseRetryAfter("soon", 0), undefined);
  t.is(parseRetryAfter(undefined, 0), undefined);
});

test("a 429 is retried, unless it says none remain and gives no Retry-After", async (t) => {
  const limited = (remaining?: string, retryAfterMs?: number) =>
    new RegistryError("ERR_REGISTRY_RATE_LIMITED", "r.io", "slow down", {
      status: 429,
      ...(remaining !== undefined && { rateLimit: { remaining, limit: "100;w=21600" } }),
      ...(retryAfterMs !== undefined && { retryAfterMs }),
    });
  t.is(await attemptsFor(t, limited()), 4, "no headers: retried");
  t.is(await attemptsFor(t, limited("5;w=21600")), 4, "some remain: retried");
  t.is(await attemptsFor(t, limited("0;w=21600")), 1, "none remain: not asked again");
  t.is(await attemptsFor(t, limited("0")), 1);
  t.is(await attemptsFor(t, limited("0;w=21600", 1)), 4, "a Retry-After is waited for");
  t.is(await attemptsFor(t, limited("10;w=21600")), 4, "10 is not 0");
});
