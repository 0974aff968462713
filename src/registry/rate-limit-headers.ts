// A registry's rate-limit headers (Docker Hub: `ratelimit-remaining: 76;w=21600`, the IETF
// draft's `ratelimit-reset`): taken from an answer, and read (malformed ones ignored).

import type { HttpResponse } from "./http.ts";

/** A registry's rate-limit headers, unparsed (Docker Hub: `ratelimit-remaining: 76;w=21600`). */
export interface RateLimitHeaders {
  readonly limit?: string | undefined;
  readonly remaining?: string | undefined;
  readonly reset?: string | undefined;
}

/** A response's rate-limit headers, when it has `ratelimit-remaining`. */
export function rateLimitHeaders(response: HttpResponse): RateLimitHeaders | undefined {
  const { headers } = response;
  const remaining = headers["ratelimit-remaining"];
  if (remaining === undefined) return undefined;
  return { remaining, limit: headers["ratelimit-limit"], reset: headers["ratelimit-reset"] };
}

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
