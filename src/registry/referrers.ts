import type { Authenticator } from "./auth.ts";
import { authorizedRequest } from "./authorized-request.ts";
import type { Credential } from "./credentials.ts";
import type { RegistryEndpoint } from "./endpoints.ts";
import { readCapped } from "./http.ts";
import { MEDIA_TYPES } from "./media-types.ts";

export interface ReferrersRequest {
  readonly repository: string;
  readonly digest: string;
  readonly credential: Credential | undefined;
  readonly maxBytes: number;
  readonly signal: AbortSignal;
}

/**
 * `GET /v2/<name>/referrers/<digest>` (OCI distribution 1.1): the index of the manifests whose
 * `subject` is `digest`, built by the registry (so it has no digest to check). A registry
 * without the referrers API answers 404, which is thrown as ERR_REGISTRY_NOT_FOUND like any
 * status error; only the first page is read.
 */
export async function readReferrers(
  endpoint: RegistryEndpoint,
  auth: Authenticator,
  request: ReferrersRequest,
): Promise<Buffer> {
  const what = `the referrers of ${endpoint.registry}/${request.repository}@${request.digest}`;
  const response = await authorizedRequest(endpoint, auth, {
    repository: request.repository,
    path: `/v2/${request.repository}/referrers/${request.digest}`,
    accept: MEDIA_TYPES.ociIndex,
    credential: request.credential,
    crossHostRedirects: false,
    signal: request.signal,
    what,
  });
  return readCapped(endpoint.registry, response, request.maxBytes, request.signal);
}
