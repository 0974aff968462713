import { tryParseReference, type ImageReference } from "../reference/index.ts";
import {
  parseRateLimit,
  RegistryError,
  type ManifestTree,
  type RateLimit,
  type RateLimitHeaders,
  type RepositoryName,
} from "../registry/index.ts";
import type { PinRecord } from "../policy/index.ts";
import { summarizeChange } from "./change.ts";
import { compareImageFiles, type OpenLayer } from "./files.ts";
import { DEFAULT_WAIT_MS, type RateLimitObservation } from "./rate-limit.ts";
import { runPass } from "./schedule.ts";
import type { CheckResult, MovedTag } from "./report.ts";

/** What a scan asks registries, passed in (the webhook's resolver and credentials, or the CLI's). */
export interface ScanRegistry {
  /**
   * The digest the registry serves for the tag now: never a cached answer; with the answer's
   * rate-limit headers when it had them (the resolver's ManifestAnswer carries them).
   */
  readonly resolve: (reference: ImageReference, deadline: number) => Promise<string | ScanAnswer>;
  /** The manifests of `digest` (for the change summary). */
  readonly tree: (name: RepositoryName, digest: string, deadline: number) => Promise<ManifestTree>;
  /** Streams a layer (for the files of the change); without it, files are not compared. */
  readonly openLayer?: OpenLayer;
}

/** A tag's digest, and the rate-limit headers of the registry's answer. */
export interface ScanAnswer {
  readonly digest: string;
  readonly rateLimit?: RateLimitHeaders | undefined;
}

/** The metrics reason of a pin whose request waited for, or was skipped by, a rate limit. */
export const RATE_LIMITED = "rate-limited";

/** A scan result, with what the registry asked of us and the error code for the metrics. */
export interface PinCheck {
  readonly result: CheckResult;
  readonly reference: ImageReference | undefined;
  readonly errorCode?: string;
  readonly retryAfterMs?: number;
  /** The rate limit the registry's answer stated, if it did. */
  readonly rateLimit?: RateLimit;
}

/** How long one request may take at most. */
const REQUEST_BUDGET_MS = 30_000;

/** Asks the registry for one pinned tag; an error is "unreachable", never drift. Never throws. */
export async function checkPin(
  pin: PinRecord,
  registry: ScanRegistry,
  now: () => number,
  budgetMs = REQUEST_BUDGET_MS,
): Promise<PinCheck> {
  const parsed = tryParseReference(pin.key);
  if (!parsed.ok)
    return {
      result: { tag: pin.key, pinned: pin.digest, outcome: { error: parsed.error.message } },
      reference: undefined,
      errorCode: "ERR_INVALID_REFERENCE",
    };
  try {
    const answer = await registry.resolve(parsed.reference, now() + budgetMs);
    const digest = typeof answer === "string" ? answer : answer.digest;
    const rateLimit = typeof answer === "string" ? undefined : parseRateLimit(answer.rateLimit);
    return {
      result: { tag: pin.key, pinned: pin.digest, outcome: { digest } },
      reference: parsed.reference,
      ...(rateLimit !== undefined && { rateLimit }),
    };
  } catch (error) {
    const code = error instanceof RegistryError ? error.code : "ERR_REGISTRY_PROTOCOL";
    const message = error instanceof Error ? error.message : String(error);
    // A 429 waits for its Retry-After; without one, for what its rate-limit headers say, read
    // as nothing left (the window's reset or length); with neither, for DEFAULT_WAIT_MS.
    const limited = error instanceof RegistryError && code === "ERR_REGISTRY_RATE_LIMITED";
    const stated = limited ? parseRateLimit(error.rateLimit) : undefined;
    const retryAfterMs =
      error instanceof RegistryError
        ? (error.retryAfterMs ?? (limited && stated === undefined ? DEFAULT_WAIT_MS : undefined))
        : undefined;
    const rateLimit =
      stated !== undefined && retryAfterMs === undefined ? { ...stated, remaining: 0 } : undefined;
    return {
      result: { tag: pin.key, pinned: pin.digest, outcome: { error: message } },
      reference: parsed.reference,
      errorCode: code,
      ...(rateLimit !== undefined && { rateLimit }),
      ...(retryAfterMs !== undefined && { retryAfterMs }),
    };
  }
}

/** Every pin's check, spread over `intervalMs` (0: at once), `concurrency` at a time. */
export function checkPins(
  pins: readonly PinRecord[],
  registry: ScanRegistry,
  options: {
    readonly intervalMs: number;
    readonly concurrency: number;
    readonly signal: AbortSignal;
    readonly now?: () => number;
    readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
    /** Each registry's last rate-limit answer, kept across scans by the caller. */
    readonly rateLimits?: Map<string, RateLimitObservation>;
    /** Told when a pin's request waits for its registry's rate limit. */
    readonly onRateLimitWait?: (
      pin: PinRecord,
      registry: string,
      until: number,
      why: string,
    ) => void;
  },
): Promise<PinCheck[]> {
  const now = options.now ?? Date.now;
  const budgetMs = Math.min(REQUEST_BUDGET_MS, Math.max(1000, options.intervalMs));
  return runPass<PinRecord, PinCheck>({
    items: pins,
    intervalMs: options.intervalMs,
    concurrency: options.concurrency,
    registryOf: (pin) => {
      const parsed = tryParseReference(pin.key);
      return parsed.ok ? parsed.reference.registry : "";
    },
    run: (pin) => checkPin(pin, registry, now, budgetMs),
    retryAfterMs: (check) => check.retryAfterMs,
    rateLimitOf: (check) => check.rateLimit,
    ...(options.rateLimits !== undefined && { rateLimits: options.rateLimits }),
    ...(options.onRateLimitWait !== undefined && { onRateLimitWait: options.onRateLimitWait }),
    paused: (pin, until, why) => ({
      result: {
        tag: pin.key,
        pinned: pin.digest,
        outcome: {
          error:
            why === undefined
              ? `not asked: the registry asked to wait (Retry-After) until ${new Date(until).toISOString()}, after this scan's end`
              : `not asked: rate limit (${why}); deferred until ${new Date(until).toISOString()}, after this scan's end`,
        },
      },
      reference: undefined,
      errorCode: why === undefined ? "ERR_REGISTRY_RATE_LIMITED" : RATE_LIMITED,
    }),
    now,
    sleep: options.sleep ?? pause,
    signal: options.signal,
  });
}

/** The moved tags with their change summaries (both manifest trees read; failures noted). */
export async function summarize(
  entries: readonly MovedTag[],
  registry: ScanRegistry,
  now: () => number = Date.now,
): Promise<MovedTag[]> {
  return Promise.all(
    entries.map(async (entry) => {
      const parsed = tryParseReference(entry.tag);
      if (!parsed.ok) return entry;
      const deadline = now() + REQUEST_BUDGET_MS;
      try {
        const [pinned, current] = await Promise.all([
          registry.tree(parsed.reference, entry.pinned, deadline),
          registry.tree(parsed.reference, entry.current, deadline),
        ]);
        const change = summarizeChange(pinned, current);
        const files =
          registry.openLayer === undefined
            ? undefined
            : await compareImageFiles(parsed.reference, pinned, current, registry.openLayer, {
                deadline,
              }).catch(
                (error: unknown) =>
                  `not compared: ${error instanceof Error ? error.message : String(error)}`,
              );
        const computedAt = new Date(now()).toISOString();
        return {
          ...entry,
          change: { ...change, ...(files !== undefined && { files }), computedAt },
          changeError: undefined,
        };
      } catch (error) {
        return { ...entry, changeError: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
}

/** Sleeps `ms`, or less when `signal` aborts (never rejects). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}
