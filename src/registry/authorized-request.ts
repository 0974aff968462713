import type { Authenticator, AuthRequest } from "./auth.ts";
import type { Credential } from "./credentials.ts";
import type { RegistryEndpoint } from "./endpoints.ts";
import { RegistryError } from "./errors.ts";
import { discard, send, type HttpResponse } from "./http.ts";
import { statusError } from "./status.ts";

export interface RegistryRequest {
  /** Default GET. */
  readonly method?: "GET" | "HEAD";
  readonly repository: string;
  /** Path below the endpoint, e.g. `/v2/team/app/blobs/sha256:…`. */
  readonly path: string;
  readonly accept: string;
  readonly credential: Credential | undefined;
  /**
   * Whether a redirect may lead to another host (blob storage: S3, a CDN). Manifests stay on
   * the registry's host.
   */
  readonly crossHostRedirects: boolean;
  readonly signal: AbortSignal;
  /** What is asked for, in messages: `docker.io/library/busybox:1.36`. */
  readonly what: string;
  /** Statuses besides 200 handed back rather than thrown (a HEAD's 405). */
  readonly pass?: readonly number[];
}

const MAX_REDIRECTS = 3;

/**
 * The one request loop of the registry client. It answers one 401 challenge (token or Basic,
 * through the shared Authenticator) and follows redirects, with two rules that hold for every
 * request: credentials are sent, and a challenge answered, only to the endpoint's own origin
 * (never along a redirect to another); a redirect may switch to another host only where
 * `crossHostRedirects` says, and never from https to http. It returns a 200 (or a `pass`
 * status) response for the caller to read; any other status is discarded and thrown as a
 * RegistryError naming `what`.
 */
export async function authorizedRequest(
  endpoint: RegistryEndpoint,
  auth: Authenticator,
  request: RegistryRequest,
): Promise<HttpResponse> {
  const authRequest: AuthRequest = {
    registry: endpoint.registry,
    endpoint: endpoint.url,
    repository: request.repository,
    credential: request.credential,
    dispatcher: endpoint.dispatcher,
    signal: request.signal,
  };
  let url = new URL(request.path, endpoint.url);
  let authorization = auth.cached(authRequest);
  let answered = false;
  for (let hops = 0; ;) {
    const ownOrigin = url.origin === endpoint.url.origin;
    const headers: Record<string, string> = { accept: request.accept };
    if (authorization !== undefined && ownOrigin) headers.authorization = authorization;
    const response = await send(endpoint.dispatcher, endpoint.registry, {
      method: request.method ?? "GET",
      url,
      headers,
      signal: request.signal,
    });
    if (response.status === 401 && !answered && ownOrigin) {
      await discard(response);
      if (authorization !== undefined) auth.forget(authRequest);
      authorization = await auth.authorize(authRequest, response);
      answered = true;
      continue;
    }
    const location = response.headers.location;
    if (response.status >= 300 && response.status < 400 && location !== undefined) {
      await discard(response);
      if (++hops > MAX_REDIRECTS) throw redirectError(endpoint, url, "too many redirects");
      url = nextUrl(endpoint, url, location, request.crossHostRedirects);
      continue;
    }
    if (response.status === 200 || request.pass?.includes(response.status) === true) {
      return response;
    }
    await discard(response);
    // Credentials refused after the challenge was answered: no cached token should outlive it.
    if (response.status === 401) auth.forget(authRequest);
    throw statusError(endpoint.registry, response, request.what, {
      credential: request.credential !== undefined,
    });
  }
}

function nextUrl(endpoint: RegistryEndpoint, from: URL, location: string, crossHost: boolean): URL {
  const to = new URL(location, from);
  const schemeOk = to.protocol === from.protocol || to.protocol === "https:";
  if (!schemeOk || (!crossHost && to.hostname !== from.hostname)) {
    throw redirectError(endpoint, from, `refusing to follow a redirect to ${to.origin}`);
  }
  return to;
}

function redirectError(endpoint: RegistryEndpoint, url: URL, detail: string): RegistryError {
  return new RegistryError(
    "ERR_REGISTRY_REDIRECT",
    endpoint.registry,
    `${url.origin} redirected ${url.pathname}: ${detail}`,
  );
}
