import test from "ava";
import fc from "fast-check";
import {
  decideRateLimit,
  DEFAULT_WAIT_MS,
  reserveOf,
  type RateLimitObservation,
} from "../../../src/drift/index.ts";
import { parseRateLimit, type RateLimit } from "../../../src/registry/index.ts";

// The drift scan's reading of rate-limit headers (Docker Hub's `ratelimit-remaining: 76;w=21600`)
// and its decision to ask a registry now or wait: examples, then properties over any input.

const HOUR6 = 21_600_000;

test("parseRateLimit: Docker Hub's headers", (t) => {
  t.deepEqual(parseRateLimit({ limit: "100;w=21600", remaining: "76;w=21600" }), {
    remaining: 76,
    limit: 100,
    windowMs: HOUR6,
  });
  t.deepEqual(parseRateLimit({ limit: " 100 ; w=21600 ", remaining: "0;w=21600" }), {
    remaining: 0,
    limit: 100,
    windowMs: HOUR6,
  });
  // The draft RFC's forms: a reset in seconds, several policies (the tightest counts).
  t.deepEqual(parseRateLimit({ remaining: "5", reset: "30" }), { remaining: 5, resetMs: 30_000 });
  t.deepEqual(parseRateLimit({ limit: "100, 10;w=1", remaining: "50;w=3600, 3;w=1" }), {
    remaining: 3,
    limit: 10,
    windowMs: 1000,
  });
});

test("parseRateLimit: malformed or missing remaining is ignored; a malformed limit or reset left out", (t) => {
  for (const remaining of [undefined, "", "lots", "-1", "76;w=abc", "76;w=0", "1e3", "76,", "7 6"])
    t.is(parseRateLimit({ limit: "100;w=21600", remaining }), undefined, String(remaining));
  t.is(parseRateLimit(undefined), undefined);
  t.deepEqual(parseRateLimit({ limit: "many", remaining: "76;w=21600", reset: "soon" }), {
    remaining: 76,
    windowMs: HOUR6,
  });
  // Missing window: remaining and limit only.
  t.deepEqual(parseRateLimit({ limit: "100", remaining: "76" }), { remaining: 76, limit: 100 });
  // A limit below what remains contradicts it: left out.
  t.deepEqual(parseRateLimit({ limit: "10", remaining: "76" }), { remaining: 76 });
});

test("reserveOf: a fifth of the limit, at least 1", (t) => {
  t.is(reserveOf({ remaining: 50, limit: 100 }), 20);
  t.is(reserveOf({ remaining: 5, limit: 10 }), 2);
  t.is(reserveOf({ remaining: 1, limit: 1 }), 1);
  t.is(reserveOf({ remaining: 50 }), 1);
});

const observed = (limit: RateLimit, sentSince = 0): RateLimitObservation => ({
  limit,
  at: 1_000_000,
  sentSince,
});

test("decideRateLimit: enough left beyond the reserve for the planned requests: go", (t) => {
  const hub = { limit: 100, remaining: 76, windowMs: HOUR6 };
  t.deepEqual(decideRateLimit(undefined, 0, 1000), { go: true });
  t.deepEqual(decideRateLimit(observed(hub), 1_000_001, 56), { go: true });
  t.deepEqual(decideRateLimit(observed(hub, 6), 1_000_001, 50), { go: true });
});

test("decideRateLimit: fewer left than planned: rationed over the window", (t) => {
  const hub = { limit: 100, remaining: 76, windowMs: HOUR6 };
  const decision = decideRateLimit(observed(hub), 1_000_001, 57);
  // 56 spare requests over 6 h: one every 6 h / 56 from the answer.
  t.like(decision, { go: false, until: 1_000_000 + Math.ceil(HOUR6 / 56) });
  t.regex(
    (decision as { why: string }).why,
    /76 of 100 requests left in its 21600 s window, 20 kept for admission/,
  );
  t.deepEqual(decideRateLimit(observed(hub), 1_000_000 + HOUR6 / 56 + 1, 57), { go: true });
  // A request already in flight takes its share: the next waits twice as long.
  t.like(decideRateLimit(observed(hub, 1), 1_000_001, 57), {
    go: false,
    until: 1_000_000 + Math.ceil((2 * HOUR6) / 56),
  });
});

test("decideRateLimit: remaining 0 is a 429 with Retry-After = the window's reset (if said)", (t) => {
  t.like(decideRateLimit(observed({ remaining: 0, limit: 100, resetMs: 90_000 }), 1_000_001, 1), {
    go: false,
    until: 1_090_000,
  });
  t.like(decideRateLimit(observed({ remaining: 0, limit: 100, windowMs: HOUR6 }), 1_000_001, 1), {
    go: false,
    until: 1_000_000 + HOUR6,
  });
  t.like(decideRateLimit(observed({ remaining: 0 }), 1_000_001, 1), {
    go: false,
    until: 1_000_000 + DEFAULT_WAIT_MS,
  });
  // Once that passed, the registry is asked again (its answer says more).
  t.deepEqual(decideRateLimit(observed({ remaining: 0 }), 1_000_000 + DEFAULT_WAIT_MS, 1), {
    go: true,
  });
});

const limitArb: fc.Arbitrary<RateLimit> = fc
  .record(
    {
      remaining: fc.nat(10_000),
      extra: fc.nat(10_000),
      windowMs: fc.integer({ min: 1, max: 86_400 }).map((s) => s * 1000),
      resetMs: fc.nat(86_400).map((s) => s * 1000),
    },
    { requiredKeys: ["remaining"] },
  )
  .map(({ remaining, extra, windowMs, resetMs }) => ({
    remaining,
    ...(extra !== undefined && { limit: remaining + extra }),
    ...(windowMs !== undefined && { windowMs }),
    ...(resetMs !== undefined && { resetMs }),
  }));

const horizonOf = (limit: RateLimit) => limit.resetMs ?? limit.windowMs ?? DEFAULT_WAIT_MS;

test("property: a request allowed within the horizon never takes the registry below the reserve", (t) => {
  // fc.assert throws with the counterexample when the property fails.
  t.notThrows(() => {
    fc.assert(
      fc.property(
        limitArb,
        fc.nat(50),
        fc.nat(HOUR6 * 2),
        fc.integer({ min: 1, max: 20_000 }),
        (limit, sentSince, after, planned) => {
          const at = 5_000_000;
          const decision = decideRateLimit({ limit, at, sentSince }, at + after, planned);
          if (after >= horizonOf(limit)) return decision.go;
          if (!decision.go)
            return decision.until > at + after && decision.until <= at + horizonOf(limit);
          return limit.remaining - sentSince - 1 >= reserveOf(limit);
        },
      ),
    );
  });
});

test("property: remaining 0 never goes before the horizon, and waits exactly until it", (t) => {
  // fc.assert throws with the counterexample when the property fails.
  t.notThrows(() => {
    fc.assert(
      fc.property(
        limitArb,
        fc.nat(HOUR6 * 2),
        fc.integer({ min: 1, max: 100 }),
        (base, after, planned) => {
          const limit = { ...base, remaining: 0 };
          const at = 7_000_000;
          const decision = decideRateLimit({ limit, at, sentSince: 0 }, at + after, planned);
          if (after >= horizonOf(limit)) return decision.go;
          return !decision.go && decision.until === at + horizonOf(limit);
        },
      ),
    );
  });
});

test("property: parseRateLimit never throws; what it returns is whole numbers", (t) => {
  const headerArb = fc.oneof(
    fc.string(),
    fc.constantFrom("76;w=21600", "0;w=21600", "100", " 5 ; w = 60 ", "1;w=", ";w=1", "5;w=-1"),
    fc.tuple(fc.nat(), fc.nat()).map(([n, w]) => `${n};w=${w}`),
  );
  // fc.assert throws with the counterexample when the property fails.
  t.notThrows(() => {
    fc.assert(
      fc.property(
        fc.record(
          { limit: headerArb, remaining: headerArb, reset: headerArb },
          { requiredKeys: [] },
        ),
        (headers) => {
          const parsed = parseRateLimit(headers);
          if (parsed === undefined) return true;
          const whole = [parsed.remaining, parsed.limit, parsed.windowMs, parsed.resetMs];
          return whole.every((n) => n === undefined || (Number.isInteger(n) && n >= 0));
        },
      ),
    );
  });
});
