import { RegistryError } from "./errors.ts";
import type { HttpResponse } from "./http.ts";
import { rateLimitHeaders } from "./rate-limit-headers.ts";
import { parseRetryAfter } from "./retry.ts";

/**
 * The RegistryError for a response status that is not success. `what` names the thing asked
 * for (`docker.io/library/busybox:1.36`, `a token from https://auth.docker.io/token`);
 * `credential` says whether credentials were sent, for a 401 that says what to do.
 */
export function statusError(
  registry: string,
  response: HttpResponse,
  what: string,
  options: { readonly credential?: boolean; readonly now?: number } = {},
): RegistryError {
  const status = response.status;
  switch (true) {
    case status === 401:
      return new RegistryError(
        "ERR_REGISTRY_UNAUTHORIZED",
        registry,
        options.credential === undefined
          ? `${registry} refused ${what}: unauthorized (401)`
          : options.credential
            ? `${registry} rejected the credentials for ${what} (401)`
            : `${registry} requires credentials for ${what}; none were found (add an imagePullSecret)`,
        { status },
      );
    case status === 403:
      return new RegistryError(
        "ERR_REGISTRY_DENIED",
        registry,
        `${registry} denied access to ${what} (403)`,
        { status },
      );
    case status === 404:
      return new RegistryError(
        "ERR_REGISTRY_NOT_FOUND",
        registry,
        `${what} was not found on ${registry} (404)`,
        { status },
      );
    case status === 429: {
      const retryAfterMs = parseRetryAfter(
        response.headers["retry-after"],
        options.now ?? Date.now(),
      );
      const rateLimit = rateLimitHeaders(response);
      return new RegistryError(
        "ERR_REGISTRY_RATE_LIMITED",
        registry,
        `${registry} is rate limiting requests for ${what} (429)`,
        {
          status,
          ...(retryAfterMs !== undefined && { retryAfterMs }),
          ...(rateLimit !== undefined && { rateLimit }),
        },
      );
    }
    case status >= 500:
      return new RegistryError(
        "ERR_REGISTRY_SERVER",
        registry,
        `${registry} failed while serving ${what} (${status})`,
        { status },
      );
    default:
      return new RegistryError(
        "ERR_REGISTRY_PROTOCOL",
        registry,
        `${registry} answered ${what} with unexpected status ${status}`,
        { status },
      );
  }
}
