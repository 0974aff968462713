import type { Authenticator } from "./auth.ts";
import { authorizedRequest } from "./authorized-request.ts";
import type { Credential } from "./credentials.ts";
import type { RegistryEndpoint } from "./endpoints.ts";
import { RegistryError } from "./errors.ts";
import { discard, readCapped, type HttpResponse } from "./http.ts";
import { digestOf, summarizeManifest, type PlatformDigest } from "./manifest.ts";
import {
  bareMediaType,
  isIndexMediaType,
  isManifestMediaType,
  MANIFEST_ACCEPT,
} from "./media-types.ts";
import { rateLimitHeaders, type RateLimitHeaders } from "./rate-limit-headers.ts";

/** What a registry serves for a tag (or digest) right now. */
export interface ManifestAnswer {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  /** Per-platform digests of an index, when they were asked for. */
  readonly platforms: readonly PlatformDigest[] | undefined;
  /** The endpoint that answered (a mirror or the registry). */
  readonly endpoint: string;
  /** The answer's rate-limit headers, when it had them (read by the drift scan). */
  readonly rateLimit?: RateLimitHeaders;
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

/** Asks one endpoint for a manifest: HEAD first, GET when the HEAD cannot be trusted or used. */
export async function fetchManifest(
  endpoint: RegistryEndpoint,
  auth: Authenticator,
  query: ManifestQuery,
): Promise<ManifestAnswer> {
  const what = `${endpoint.registry}/${query.repository}${query.reference.includes(":") ? "@" : ":"}${query.reference}`;
  const request = {
    repository: query.repository,
    path: `/v2/${query.repository}/manifests/${query.reference}`,
    accept: MANIFEST_ACCEPT,
    credential: query.credential,
    crossHostRedirects: false,
    signal: query.signal,
    what,
  };
  // A registry without HEAD for manifests answers 405: then it is asked with GET.
  const head = await authorizedRequest(endpoint, auth, { ...request, method: "HEAD", pass: [405] });
  await discard(head);
  if (head.status === 200) {
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
        ...rateLimitOf(head),
      };
    }
  }
  const get = await authorizedRequest(endpoint, auth, request);
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
    ...rateLimitOf(get),
  };
}

function checkExpected(
  endpoint: RegistryEndpoint,
  what: string,
  digest: string,
  expected: string | undefined,
): void {
  if (expected !== undefined && expected !== digest) {
    throw mismatch(endpoint, what, `expected ${expected}, the registry serves ${digest}`);
  }
}

function mismatch(endpoint: RegistryEndpoint, what: string, detail: string): RegistryError {
  return new RegistryError(
    "ERR_DIGEST_MISMATCH",
    endpoint.registry,
    `digest mismatch for ${what}: ${detail}`,
  );
}

/** The answer's rate-limit headers as a spreadable part of it. */
function rateLimitOf(response: HttpResponse): Pick<ManifestAnswer, "rateLimit"> {
  const rateLimit = rateLimitHeaders(response);
  return rateLimit === undefined ? {} : { rateLimit };
}
