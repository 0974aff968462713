import type { RateLimit } from "../registry/index.ts";
import { decideRateLimit, type RateLimitObservation } from "./rate-limit.ts";

/**
 * When each of `count` requests of one scan starts, in milliseconds from the scan's start:
 * evenly over the interval (the registry sees one request per pin per interval, never a burst).
 */
export function spreadOffsets(count: number, intervalMs: number): number[] {
  if (count <= 0) return [];
  const step = intervalMs / count;
  return Array.from({ length: count }, (_, index) => Math.floor(index * step));
}

export interface PassOptions<T, R> {
  readonly items: readonly T[];
  readonly intervalMs: number;
  /** At most this many requests at a time (a slow registry delays the next start). */
  readonly concurrency: number;
  /** The registry an item's request goes to: a Retry-After pauses that registry only. */
  readonly registryOf: (item: T) => string;
  readonly run: (item: T) => Promise<R>;
  /** How long the registry asked to be left alone after this result (Retry-After), if it did. */
  readonly retryAfterMs: (result: R) => number | undefined;
  /** The result of an item not asked because its registry is paused past the scan's end:
   * `why` is undefined for a Retry-After, else what the registry said of its rate limit. */
  readonly paused: (item: T, untilMs: number, why: string | undefined) => R;
  /** The rate limit a result's answer stated (rate-limit.ts), if it did. */
  readonly rateLimitOf?: (result: R) => RateLimit | undefined;
  /** Each registry's last rate-limit answer, kept across passes (one per pass without it). */
  readonly rateLimits?: Map<string, RateLimitObservation>;
  /** Told of an item whose request waits for its registry's rate limit (not of skipped ones). */
  readonly onRateLimitWait?: (item: T, registry: string, untilMs: number, why: string) => void;
  readonly now: () => number;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly signal: AbortSignal;
}

/**
 * One scan: every item's request started at its spread offset (see spreadOffsets), at most
 * `concurrency` in flight, a registry that answered with Retry-After left alone until then (its
 * later items wait, or are `paused` when that is past the scan's end), and a registry whose
 * rate-limit headers say its window is nearly spent asked only as decideRateLimit allows (the
 * same: its items wait, or are `paused`). Each registry has its own queue: one that must wait
 * holds no slot and delays no other registry's requests. Results in item order.
 * Pure apart from the injected clock; stops early (results so far) when `signal` aborts.
 */
export async function runPass<T, R>(options: PassOptions<T, R>): Promise<R[]> {
  const { items, signal, now, sleep } = options;
  const start = now();
  const end = start + options.intervalMs;
  const offsets = spreadOffsets(items.length, options.intervalMs);
  const results = new Array<R>(items.length);
  const pausedUntil = new Map<string, number>();
  const limits = options.rateLimits ?? new Map<string, RateLimitObservation>();
  const inFlight = new Map<string, number>();
  const queues = new Map<string, number[]>();
  for (const [index, item] of items.entries()) {
    const registry = options.registryOf(item);
    const queue = queues.get(registry);
    if (queue === undefined) queues.set(registry, [index]);
    else queue.push(index);
  }
  const running = new Set<Promise<void>>();
  const until = async (at: number) => {
    const wait = at - now();
    if (wait > 0) await sleep(wait, signal);
  };

  /** Waits until `index` may be asked; false when it is `paused` (its result set) or aborted. */
  const mayAsk = async (index: number, registry: string, planned: number): Promise<boolean> => {
    const item = items[index] as T;
    for (let told = false; ;) {
      if (isAborted(signal)) return false;
      const paused = pausedUntil.get(registry) ?? 0;
      if (paused > end) {
        results[index] = options.paused(item, paused, undefined);
        return false;
      }
      if (paused > now()) {
        await until(paused);
        continue;
      }
      const decision = decideRateLimit(limits.get(registry), now(), planned);
      if (!decision.go) {
        if (decision.until > end) {
          results[index] = options.paused(item, decision.until, decision.why);
          return false;
        }
        if (!told) options.onRateLimitWait?.(item, registry, decision.until, decision.why);
        told = true;
        await until(decision.until); // then decided again: answers may have come meanwhile
        continue;
      }
      // A free slot last: waiting for one, an answer may pause the registry (checked again).
      if (running.size < Math.max(1, options.concurrency)) return true;
      await Promise.race(running);
    }
  };

  const ask = (index: number, registry: string) => {
    const seen = limits.get(registry);
    if (seen !== undefined) limits.set(registry, { ...seen, sentSince: seen.sentSince + 1 });
    inFlight.set(registry, (inFlight.get(registry) ?? 0) + 1);
    const request = options.run(items[index] as T).then((result) => {
      results[index] = result;
      const others = (inFlight.get(registry) ?? 1) - 1;
      inFlight.set(registry, others);
      const limit = options.rateLimitOf?.(result);
      if (limit !== undefined) limits.set(registry, { limit, at: now(), sentSince: others });
      const retryAfter = options.retryAfterMs(result);
      if (retryAfter !== undefined) {
        const next = now() + retryAfter;
        pausedUntil.set(registry, Math.max(next, pausedUntil.get(registry) ?? 0));
      }
    });
    const tracked = request.finally(() => running.delete(tracked));
    running.add(tracked);
  };

  await Promise.all(
    [...queues].map(async ([registry, queue]) => {
      for (const [position, index] of queue.entries()) {
        if (isAborted(signal)) return;
        await until(start + (offsets[index] ?? 0));
        // The requests planned: this registry's items from this one to the pass's end.
        if (await mayAsk(index, registry, queue.length - position)) ask(index, registry);
      }
    }),
  );
  await Promise.all(running);
  return results;
}

/** Whether `signal` aborted by now (a call, so that checks after an await are not narrowed away). */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}
