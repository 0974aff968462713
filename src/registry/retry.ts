import { setTimeout as sleep } from "node:timers/promises";
import { RegistryError } from "./errors.ts";

export interface RetryOptions {
  /** Epoch milliseconds after which no attempt starts and no wait extends. */
  readonly deadline: number;
  readonly signal: AbortSignal;
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly now?: () => number;
  readonly random?: () => number;
}

/**
 * Runs `attempt` again after transient registry failures (429, 502/503/504, connection
 * resets) with full-jitter exponential backoff, honouring Retry-After, and never waiting past
 * the deadline: when the next wait would cross it, the last error is thrown at once.
 */
export async function withRetry<T>(attempt: () => Promise<T>, options: RetryOptions): Promise<T> {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const maxAttempts = options.maxAttempts ?? 4;
  const base = options.baseDelayMs ?? 100;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof RegistryError) || !error.retriable || n >= maxAttempts) throw error;
      const backoff = random() * base * 2 ** (n - 1);
      const wait = Math.max(backoff, error.retryAfterMs ?? 0);
      if (now() + wait >= options.deadline || options.signal.aborted) throw error;
      await sleep(wait, undefined, { signal: options.signal }).catch(() => {
        throw error;
      });
    }
  }
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
