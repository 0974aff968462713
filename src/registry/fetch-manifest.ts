import type { Authenticator, AuthRequest } from "./auth.ts";
import type { Credential } from "./credentials.ts";
import type { Endpoint } from "./endpoints.ts";
import { RegistryError } from "./errors.ts";
import { discard, readCapped, send, type HttpResponse } from "./http.ts";
import { digestOf, summarizeManifest, type PlatformDigest } from "./manifest.ts";
import {
  MANIFEST_ACCEPT,
  bareMediaType,
  isIndexMediaType,
  isManifestMediaType,
} from "./media-types.ts";
import { statusError } from "./status.ts";

/** What a registry serves for a tag (or digest) right now. */
export interface ManifestAnswer {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  /** Per-platform digests of an index, when they were asked for. */
  readonly platforms: readonly PlatformDigest[] | undefined;
  /** The endpoint that answered (a mirror or the registry). */
  readonly endpoint: string;
}

export interface ManifestQuery {
  readonly repository: string;
  /** A tag or a digest. */
  readonly reference: string;
  /** A digest the body must hash to (the reference's own digest, or a pin being checked). */
  readonly expectedDigest: string | undefined;
  readonly credential: Credential | undefined;
  /** Always read and hash the body rather than trusting Docker-Content-Digest. */
  readonly verify: boolean;
  readonly platforms: boolean;
  readonly maxBytes: number;
  readonly signal: AbortSignal;
}

const DIGEST_HEADER = /^sha(256:[a-f0-9]{64}|512:[a-f0-9]{128})$/;
const MAX_REDIRECTS = 3;

/** Asks one endpoint for a manifest: HEAD first, GET when the HEAD cannot be trusted or used. */
export async function fetchManifest(
  endpoint: Endpoint,
  auth: Authenticator,
  query: ManifestQuery,
): Promise<ManifestAnswer> {
  const what = `${endpoint.registry}/${query.repository}${query.reference.includes(":") ? "@" : ":"}${query.reference}`;
  const head = await exchange(endpoint, auth, query, "HEAD", what);
  if (head.status === 200) {
    await discard(head);
    const digest = head.headers["docker-content-digest"] ?? "";
    const mediaType = bareMediaType(head.headers["content-type"]);
    const needBody =
      query.verify ||
      !DIGEST_HEADER.test(digest) ||
      !isManifestMediaType(mediaType) ||
      (query.platforms && isIndexMediaType(mediaType));
    if (!needBody) {
      checkExpected(endpoint, what, digest, query.expectedDigest);
      const size = Number(head.headers["content-length"] ?? NaN);
      return {
        digest,
        mediaType,
        size,
        platforms: query.platforms ? [] : undefined,
        endpoint: endpoint.url.origin,
      };
    }
  } else if (head.status !== 405) {
    await discard(head);
    throw statusError(endpoint.registry, head, what);
  } else {
    await discard(head);
  }
  const get = await exchange(endpoint, auth, query, "GET", what);
  if (get.status !== 200) {
    await discard(get);
    throw statusError(endpoint.registry, get, what);
  }
  const body = await readCapped(endpoint.registry, get, query.maxBytes, query.signal);
  const headerDigest = get.headers["docker-content-digest"];
  const digest = digestOf(body, headerDigest ?? query.expectedDigest ?? "sha256:");
  if (headerDigest !== undefined && headerDigest !== digest) {
    throw mismatch(
      endpoint,
      what,
      `the body hashes to ${digest} but Docker-Content-Digest says ${headerDigest}`,
    );
  }
  checkExpected(endpoint, what, digest, query.expectedDigest);
  const summary = summarizeManifest(endpoint.registry, body, get.headers["content-type"]);
  return {
    digest,
    mediaType: summary.mediaType,
    size: body.length,
    platforms: query.platforms ? summary.platforms : undefined,
    endpoint: endpoint.url.origin,
  };
}

/** One request, answering a 401 challenge once and following same-host redirects. */
async function exchange(
  endpoint: Endpoint,
  auth: Authenticator,
  query: ManifestQuery,
  method: "HEAD" | "GET",
  what: string,
): Promise<HttpResponse> {
  const authRequest: AuthRequest = {
    registry: endpoint.registry,
    endpoint: endpoint.url,
    repository: query.repository,
    credential: query.credential,
    dispatcher: endpoint.dispatcher,
    signal: query.signal,
  };
  let url = new URL(`/v2/${query.repository}/manifests/${query.reference}`, endpoint.url);
  let authorization = auth.cached(authRequest);
  let answeredChallenge = false;
  for (let hops = 0; ;) {
    const headers: Record<string, string> = { accept: MANIFEST_ACCEPT };
    // Credentials go only to the endpoint's own origin, never along a redirect.
    if (authorization !== undefined && url.origin === endpoint.url.origin)
      headers.authorization = authorization;
    const response = await send(endpoint.dispatcher, endpoint.registry, {
      method,
      url,
      headers,
      signal: query.signal,
    });
    if (response.status === 401 && !answeredChallenge) {
      await discard(response);
      if (authorization !== undefined) auth.forget(authRequest);
      authorization = await auth.authorize(authRequest, response);
      answeredChallenge = true;
      continue;
    }
    if (response.status === 401) {
      await discard(response);
      auth.forget(authRequest);
      throw new RegistryError(
        "ERR_REGISTRY_UNAUTHORIZED",
        endpoint.registry,
        query.credential === undefined
          ? `${endpoint.registry} requires credentials for ${what}; none were found (add an imagePullSecret)`
          : `${endpoint.registry} rejected the credentials for ${what}`,
        { status: 401 },
      );
    }
    const location = response.headers.location;
    if (response.status >= 300 && response.status < 400 && location !== undefined) {
      await discard(response);
      if (++hops > MAX_REDIRECTS) throw redirectError(endpoint, what, "too many redirects");
      url = redirectTarget(endpoint, what, url, location);
      continue;
    }
    return response;
  }
}

function redirectTarget(endpoint: Endpoint, what: string, from: URL, location: string): URL {
  const to = new URL(location, from);
  const sameHost = to.hostname === from.hostname;
  const sameOrUpgradedScheme = to.protocol === from.protocol || to.protocol === "https:";
  if (!sameHost || !sameOrUpgradedScheme) {
    throw redirectError(endpoint, what, `refusing to follow a redirect to ${to.origin}`);
  }
  return to;
}

function redirectError(endpoint: Endpoint, what: string, detail: string): RegistryError {
  return new RegistryError(
    "ERR_REGISTRY_REDIRECT",
    endpoint.registry,
    `${endpoint.url.origin} redirected ${what}: ${detail}`,
  );
}

function checkExpected(
  endpoint: Endpoint,
  what: string,
  digest: string,
  expected: string | undefined,
): void {
  if (expected !== undefined && expected !== digest) {
    throw mismatch(endpoint, what, `expected ${expected}, the registry serves ${digest}`);
  }
}

function mismatch(endpoint: Endpoint, what: string, detail: string): RegistryError {
  return new RegistryError(
    "ERR_DIGEST_MISMATCH",
    endpoint.registry,
    `digest mismatch for ${what}: ${detail}`,
  );
}
