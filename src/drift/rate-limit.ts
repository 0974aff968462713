// A registry's rate-limit headers (Docker Hub: `ratelimit-remaining: 76;w=21600`) read, and the
// pure decision whether the drift scan may ask that registry now or waits, keeping a reserve.

import type { RateLimitHeaders } from "../registry/index.ts";

/** What a registry said of its rate limit in one answer. */
export interface RateLimit {
  /** Requests left in the window (after the one answered). */
  readonly remaining: number;
  /** Requests the window allows in all. */
  readonly limit?: number | undefined;
  /** The window's length (`;w=` seconds), a rolling window at Docker Hub. */
  readonly windowMs?: number | undefined;
  /** Until the window resets, from the answer (`ratelimit-reset` delta seconds), when said. */
  readonly resetMs?: number | undefined;
}

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

/** One list item (`76;w=21600`): the number and its window, or undefined when malformed. */
function readItem(text: string): { value: number; windowMs?: number } | undefined {
  const [count = "", ...params] = text.split(";").map((part) => part.trim());
  if (!/^\d{1,9}$/.test(count)) return undefined;
  let windowMs: number | undefined;
  for (const param of params) {
    const [name = "", value = ""] = param.split("=").map((part) => part.trim());
    if (name.toLowerCase() !== "w") continue;
    if (!/^\d{1,9}$/.test(value) || Number(value) === 0) return undefined;
    windowMs = Number(value) * 1000;
  }
  return { value: Number(count), ...(windowMs !== undefined && { windowMs }) };
}

/** The smallest well-formed item of a header (the most constraining of several policies). */
function readList(text: string | undefined): { value: number; windowMs?: number } | undefined {
  if (text === undefined) return undefined;
  const items = text.split(",").map(readItem);
  if (items.some((item) => item === undefined)) return undefined;
  return (items as { value: number; windowMs?: number }[]).reduce<
    { value: number; windowMs?: number } | undefined
  >((least, item) => (least === undefined || item.value < least.value ? item : least), undefined);
}

/**
 * The rate limit an answer's headers state; undefined when there is no (or a malformed)
 * `ratelimit-remaining`: such headers are ignored. A malformed limit or reset is left out.
 */
export function parseRateLimit(headers: RateLimitHeaders | undefined): RateLimit | undefined {
  const remaining = readList(headers?.remaining);
  if (remaining === undefined) return undefined;
  const limit = readList(headers?.limit);
  const reset = headers?.reset?.trim();
  const resetMs = reset !== undefined && /^\d{1,9}$/.test(reset) ? Number(reset) * 1000 : undefined;
  const windowMs = remaining.windowMs ?? limit?.windowMs;
  return {
    remaining: remaining.value,
    ...(limit !== undefined && limit.value >= remaining.value && { limit: limit.value }),
    ...(windowMs !== undefined && { windowMs }),
    ...(resetMs !== undefined && { resetMs }),
  };
}

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
