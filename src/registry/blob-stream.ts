import { createHash } from "node:crypto";
import type { Authenticator } from "./auth.ts";
import { authorizedRequest } from "./authorized-request.ts";
import type { Credential } from "./credentials.ts";
import type { RegistryEndpoint } from "./endpoints.ts";
import { RegistryError } from "./errors.ts";
import type { HttpResponse } from "./http.ts";
import { withRetry } from "./retry.ts";

export interface BlobStreamOptions {
  readonly credential: Credential | undefined;
  /** Epoch ms by which the registry must have started answering (the body may take longer). */
  readonly deadline: number;
  /** The blob's size from its descriptor: more bytes than this are refused. */
  readonly size: number;
  /** Cancels the download, also mid-body. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Streams the blob `digest` of `repository` from the first endpoint that serves it (mirrors
 * first, retries within the deadline, auth and redirect rules as for every registry read). The
 * chunks are hashed as they pass; after the last one the iteration throws ERR_DIGEST_MISMATCH
 * when the bytes are not what the digest says, so nothing derived from them may be trusted
 * before the iteration has completed. More bytes than `size` are refused as they arrive.
 */
export async function openBlobStream(
  endpoints: readonly RegistryEndpoint[],
  auth: Authenticator,
  name: { readonly registry: string; readonly repository: string },
  digest: string,
  options: BlobStreamOptions,
): Promise<AsyncIterable<Buffer>> {
  const what = `${name.registry}/${name.repository}@${digest}`;
  const headers = new AbortController();
  const signal =
    options.signal === undefined
      ? headers.signal
      : AbortSignal.any([options.signal, headers.signal]);
  const timer = setTimeout(
    () => {
      headers.abort(new DOMException("the registry did not answer in time", "TimeoutError"));
    },
    Math.max(1, options.deadline - Date.now()),
  );
  try {
    let lastError: unknown;
    for (const endpoint of endpoints) {
      try {
        const response = await withRetry(
          () =>
            authorizedRequest(endpoint, auth, {
              repository: name.repository,
              path: `/v2/${name.repository}/blobs/${digest}`,
              accept: "*/*",
              credential: options.credential,
              crossHostRedirects: true,
              signal,
              what: `${what} (blob)`,
            }),
          { deadline: options.deadline, signal },
        );
        const declared = Number(response.headers["content-length"] ?? NaN);
        if (declared > options.size) {
          response.body.destroy();
          throw tooLarge(name.registry, what, options.size);
        }
        return verified(name.registry, what, response, digest, options.size, signal);
      } catch (error) {
        lastError = error;
        if (signal.aborted) break;
      }
    }
    throw lastError;
  } finally {
    clearTimeout(timer);
  }
}

async function* verified(
  registry: string,
  what: string,
  response: HttpResponse,
  digest: string,
  limit: number,
  signal: AbortSignal,
): AsyncGenerator<Buffer> {
  const algorithm = digest.startsWith("sha512:") ? "sha512" : "sha256";
  const hash = createHash(algorithm);
  let size = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw tooLarge(registry, what, limit);
      hash.update(chunk);
      yield chunk;
    }
  } catch (error) {
    if (error instanceof RegistryError) throw error;
    throw bodyError(registry, what, error, signal);
  } finally {
    // Stopped early (an error downstream, a cap): release the connection.
    if (!response.body.destroyed) response.body.destroy();
  }
  const actual = `${algorithm}:${hash.digest("hex")}`;
  if (actual !== digest) {
    throw new RegistryError(
      "ERR_DIGEST_MISMATCH",
      registry,
      `digest mismatch for ${what}: the ${size} bytes served hash to ${actual}`,
    );
  }
}

function tooLarge(registry: string, what: string, limit: number): RegistryError {
  return new RegistryError(
    "ERR_REGISTRY_PROTOCOL",
    registry,
    `${what} is larger than the ${limit} bytes its manifest says; refusing to read more`,
  );
}

function bodyError(
  registry: string,
  what: string,
  error: unknown,
  signal: AbortSignal,
): RegistryError {
  const cause = (error ?? {}) as { code?: string; name?: string; message?: string };
  const timeout =
    cause.code === "UND_ERR_BODY_TIMEOUT" || cause.name === "TimeoutError" || signal.aborted;
  return timeout
    ? new RegistryError("ERR_REGISTRY_TIMEOUT", registry, `reading ${what} stalled`, {
        cause: error,
      })
    : new RegistryError(
        "ERR_REGISTRY_UNREACHABLE",
        registry,
        `reading ${what} failed: ${cause.code ?? cause.message ?? String(error)}`,
        { cause: error },
      );
}
