// The pure decision whether the drift scan may ask a registry now or waits, keeping a reserve
// of the rate limit the registry's answers state (registry/ reads their headers).

import type { RateLimit } from "../registry/index.ts";

/** The last answer's rate limit for one registry, and the requests sent to it since. */
export interface RateLimitObservation {
  readonly limit: RateLimit;
  /** When the answer came (epoch ms). */
  readonly at: number;
  /** Requests started since the answer, or in flight when it came (maybe not counted in it). */
  readonly sentSince: number;
}

export type RateLimitDecision =
  { readonly go: true } | { readonly go: false; readonly until: number; readonly why: string };

/** Share of the window's requests the scan leaves to admission (pulls, resolves). */
export const RESERVE_SHARE = 0.2;
/** How long to leave a registry alone when neither a reset nor a window is said (as a 429). */
export const DEFAULT_WAIT_MS = 60_000;

/** Requests of the window the scan leaves alone: a fifth of the limit (at least 1). */
export function reserveOf(limit: RateLimit): number {
  return limit.limit === undefined ? 1 : Math.max(1, Math.ceil(limit.limit * RESERVE_SHARE));
}

/**
 * Whether the scan may send its next request to a registry now, given the registry's last
 * rate-limit answer and the `planned` requests this scan still has for it (this one included):
 * - no answer with the headers yet, or the answer older than its horizon: go;
 * - the requests left minus the reserve cover the planned ones: go (the scan's own pace);
 * - fewer left: ration them, one every horizon ÷ (left − reserve) from the answer;
 * - none left beyond the reserve (0 remaining included): wait until the answer + horizon,
 *   like a 429 with that Retry-After.
 * The horizon is the window's reset when said, else its length (a rolling window has let go of
 * every request it counted by then), else 60 s. Pure.
 */
export function decideRateLimit(
  observation: RateLimitObservation | undefined,
  now: number,
  planned: number,
): RateLimitDecision {
  if (observation === undefined) return { go: true };
  const { limit, at, sentSince } = observation;
  const horizonMs = limit.resetMs ?? limit.windowMs ?? DEFAULT_WAIT_MS;
  if (now >= at + horizonMs) return { go: true };
  const reserve = reserveOf(limit);
  const spare = limit.remaining - reserve;
  const budget = spare - sentSince;
  if (budget >= planned) return { go: true };
  const said = `${limit.remaining}${limit.limit === undefined ? "" : ` of ${limit.limit}`} requests left${limit.windowMs === undefined ? "" : ` in its ${limit.windowMs / 1000} s window`}`;
  if (budget <= 0)
    return {
      go: false,
      until: at + horizonMs,
      why:
        limit.remaining === 0
          ? `the registry said ${said}`
          : `the registry said ${said}, ${reserve} kept for admission`,
    };
  const until = at + Math.ceil((horizonMs * (sentSince + 1)) / spare);
  if (until <= now) return { go: true };
  return {
    go: false,
    until,
    why: `the registry said ${said}, ${reserve} kept for admission: ${spare} spread over ${Math.round(horizonMs / 1000)} s`,
  };
}
