import { DigestpinError } from "../errors.ts";
import { parseRateLimit, type RateLimitHeaders } from "./rate-limit-headers.ts";

/** Why a registry call failed; each code maps to something an operator can act on. */
export type RegistryErrorCode =
  | "ERR_REGISTRY_NOT_ALLOWED"
  | "ERR_REGISTRY_NOT_FOUND"
  | "ERR_REGISTRY_UNAUTHORIZED"
  | "ERR_REGISTRY_DENIED"
  | "ERR_REGISTRY_RATE_LIMITED"
  | "ERR_REGISTRY_TIMEOUT"
  | "ERR_REGISTRY_UNREACHABLE"
  | "ERR_REGISTRY_TLS"
  | "ERR_REGISTRY_SERVER"
  | "ERR_REGISTRY_PROTOCOL"
  | "ERR_REGISTRY_REDIRECT"
  | "ERR_DIGEST_MISMATCH"
  | "ERR_MANIFEST_TOO_LARGE"
  | "ERR_UNSUPPORTED_MEDIA_TYPE"
  | "ERR_CREDENTIALS_UNSUPPORTED";

/**
 * Codes meaning "the registry could not give an answer" (as opposed to answering no): the
 * policy's `registryUnavailable` setting decides what happens to pinned images then.
 */
const UNAVAILABLE: ReadonlySet<RegistryErrorCode> = new Set([
  "ERR_REGISTRY_RATE_LIMITED",
  "ERR_REGISTRY_TIMEOUT",
  "ERR_REGISTRY_UNREACHABLE",
  "ERR_REGISTRY_SERVER",
]);

/** Server statuses worth another attempt: the gateway or the service is briefly down. */
const RETRIABLE_STATUS: ReadonlySet<number> = new Set([502, 503, 504]);

export class RegistryError extends DigestpinError {
  declare readonly code: RegistryErrorCode;
  /** The registry host the error is about. */
  readonly registry: string;
  readonly status: number | undefined;
  /** Milliseconds the registry asked us to wait (Retry-After), if it did. */
  readonly retryAfterMs: number | undefined;
  /** The rate-limit headers of a 429, when it had them (the drift scan waits by them). */
  readonly rateLimit: RateLimitHeaders | undefined;

  constructor(
    code: RegistryErrorCode,
    registry: string,
    message: string,
    options: ErrorOptions & {
      status?: number;
      retryAfterMs?: number;
      rateLimit?: RateLimitHeaders;
    } = {},
  ) {
    super(code, message, options);
    this.registry = registry;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.rateLimit = options.rateLimit;
  }

  get unavailable(): boolean {
    return UNAVAILABLE.has(this.code);
  }

  get retriable(): boolean {
    if (this.code === "ERR_REGISTRY_SERVER") return RETRIABLE_STATUS.has(this.status ?? 0);
    // A 429 saying none remain (Docker Hub's spent quota: `ratelimit-remaining: 0;w=21600`)
    // resets in hours, not in a retry's backoff: asking again only spends requests.
    if (this.code === "ERR_REGISTRY_RATE_LIMITED")
      return this.retryAfterMs !== undefined || parseRateLimit(this.rateLimit)?.remaining !== 0;
    return this.code === "ERR_REGISTRY_UNREACHABLE";
  }
}
