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
  /** The result of an item not asked because its registry is paused past the scan's end. */
  readonly paused: (item: T, untilMs: number) => R;
  readonly now: () => number;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly signal: AbortSignal;
}

/**
 * One scan: every item's request started at its spread offset (see spreadOffsets), at most
 * `concurrency` in flight, a registry that answered with Retry-After left alone until then (its
 * later items wait, or are `paused` when that is past the scan's end). Results in item order.
 * Pure apart from the injected clock; stops early (results so far) when `signal` aborts.
 */
export async function runPass<T, R>(options: PassOptions<T, R>): Promise<R[]> {
  const { items, signal, now, sleep } = options;
  const start = now();
  const end = start + options.intervalMs;
  const offsets = spreadOffsets(items.length, options.intervalMs);
  const results = new Array<R>(items.length);
  const pausedUntil = new Map<string, number>();
  const running = new Set<Promise<void>>();
  const until = async (at: number) => {
    const wait = at - now();
    if (wait > 0) await sleep(wait, signal);
  };
  for (const [index, item] of items.entries()) {
    if (signal.aborted) break;
    await until(start + (offsets[index] ?? 0));
    while (running.size >= Math.max(1, options.concurrency)) await Promise.race(running);
    if (isAborted(signal)) break;
    const registry = options.registryOf(item);
    const paused = pausedUntil.get(registry) ?? 0;
    if (paused > end) {
      results[index] = options.paused(item, paused);
      continue;
    }
    await until(paused);
    const request = options.run(item).then((result) => {
      results[index] = result;
      const retryAfter = options.retryAfterMs(result);
      if (retryAfter !== undefined) {
        const next = now() + retryAfter;
        pausedUntil.set(registry, Math.max(next, pausedUntil.get(registry) ?? 0));
      }
    });
    const tracked = request.finally(() => running.delete(tracked));
    running.add(tracked);
  }
  await Promise.all(running);
  return results;
}

/** Whether `signal` aborted by now (a call, so that checks after an await are not narrowed away). */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}
