import type { Authenticator, AuthRequest } from "./auth.ts";
import type { Credential } from "./credentials.ts";
import type { Endpoint } from "./endpoints.ts";
import { RegistryError } from "./errors.ts";
import { discard, send, type HttpResponse } from "./http.ts";

export interface AuthorizedGet {
  readonly repository: string;
  /** Path below the endpoint, e.g. `/v2/team/app/blobs/sha256:…`. */
  readonly path: string;
  readonly accept: string;
  readonly credential: Credential | undefined;
  /**
   * Whether a redirect may lead to another host (blob storage: S3, a CDN); credentials never
   * follow a redirect to another origin. Manifests stay on the registry's host.
   */
  readonly crossHostRedirects: boolean;
  readonly signal: AbortSignal;
}

const MAX_REDIRECTS = 3;

/**
 * GET from a registry endpoint answering one 401 challenge (token or Basic, through the shared
 * Authenticator) and following redirects. The caller reads or discards the body and judges the
 * status (it may be 404 and the like; a second 401 is an error here).
 */
export async function authorizedGet(
  endpoint: Endpoint,
  auth: Authenticator,
  request: AuthorizedGet,
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
    const headers: Record<string, string> = { accept: request.accept };
    if (authorization !== undefined && url.origin === endpoint.url.origin) {
      headers.authorization = authorization;
    }
    const response = await send(endpoint.dispatcher, endpoint.registry, {
      method: "GET",
      url,
      headers,
      signal: request.signal,
    });
    if (response.status === 401 && !answered && url.origin === endpoint.url.origin) {
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
    return response;
  }
}

function nextUrl(endpoint: Endpoint, from: URL, location: string, crossHost: boolean): URL {
  const to = new URL(location, from);
  const schemeOk = to.protocol === from.protocol || to.protocol === "https:";
  if (!schemeOk || (!crossHost && to.hostname !== from.hostname)) {
    throw redirectError(endpoint, from, `refusing to follow a redirect to ${to.origin}`);
  }
  return to;
}

function redirectError(endpoint: Endpoint, url: URL, detail: string): RegistryError {
  return new RegistryError(
    "ERR_REGISTRY_REDIRECT",
    endpoint.registry,
    `${url.origin} redirected ${url.pathname}: ${detail}`,
  );
}
