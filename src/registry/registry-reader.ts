import { Authenticator } from "./auth.ts";
import { authorizedRequest } from "./authorized-request.ts";
import { openBlobStream } from "./blob-stream.ts";
import { anonymous, type Keychain } from "./credentials.ts";
import { EndpointDirectory, type DispatcherFactory, type RegistryEndpoint } from "./endpoints.ts";
import { RegistryError } from "./errors.ts";
import { readCapped } from "./http.ts";
import { digestOf } from "./manifest.ts";
import { bareMediaType, MANIFEST_ACCEPT } from "./media-types.ts";
import { realmGuard } from "./realm-guard.ts";
import { readReferrers } from "./referrers.ts";
import type { RegistryConfig } from "./registry-config.ts";
import { withRetry } from "./retry.ts";

export interface RegistryReaderOptions {
  readonly registries?: readonly RegistryConfig[] | undefined;
  readonly dispatcherFactory?: DispatcherFactory;
  readonly maxManifestBytes?: number;
  /** Image config blobs are small; more than this is refused (default 8 MiB). */
  readonly maxBlobBytes?: number;
  readonly defaultTimeoutMs?: number;
}

export interface ReadOptions {
  readonly keychain?: Keychain;
  readonly deadline?: number;
}

/** The repository a read is about (an ImageReference is one). */
export interface RepositoryName {
  readonly registry: string;
  readonly repository: string;
}

export interface FetchedManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly body: Buffer;
}

/**
 * Reads manifests and blobs (image configs) from registries, for `digestpin diff`: the same
 * endpoints (mirrors first), dispatchers, auth and retries as the Resolver, and every body
 * checked against the digest it was asked by.
 */
export class RegistryReader {
  readonly #directory: EndpointDirectory;
  readonly #auth: Authenticator;
  readonly #options: RegistryReaderOptions;

  constructor(options: RegistryReaderOptions = {}) {
    this.#options = options;
    this.#directory = new EndpointDirectory(options.registries, options.dispatcherFactory);
    this.#auth = new Authenticator({ checkRealm: realmGuard(options.registries) });
  }

  /** The manifest `reference` (a tag or a digest) of `name`, as served. */
  async manifest(
    name: RepositoryName,
    reference: string,
    options: ReadOptions = {},
  ): Promise<FetchedManifest> {
    const path = `/v2/${name.repository}/manifests/${reference}`;
    const what = `${name.registry}/${name.repository}${reference.includes(":") ? "@" : ":"}${reference}`;
    const limit = this.#options.maxManifestBytes ?? 4 * 1024 * 1024;
    return this.#read(name, options, async (endpoint, credential, signal) => {
      const response = await authorizedRequest(endpoint, this.#auth, {
        repository: name.repository,
        path,
        accept: MANIFEST_ACCEPT,
        credential,
        crossHostRedirects: false,
        signal,
        what,
      });
      const body = await readCapped(name.registry, response, limit, signal);
      const header = response.headers["docker-content-digest"];
      const expected = reference.includes(":") ? reference : header;
      const digest = digestOf(body, expected ?? "sha256:");
      if (expected !== undefined && expected !== digest)
        throw mismatch(name, what, expected, digest);
      return { digest, mediaType: bareMediaType(response.headers["content-type"]), body };
    });
  }

  /** The blob `digest` of `name` (following redirects to blob storage), verified. */
  async blob(name: RepositoryName, digest: string, options: ReadOptions = {}): Promise<Buffer> {
    const what = `${name.registry}/${name.repository}@${digest} (blob)`;
    const limit = this.#options.maxBlobBytes ?? 8 * 1024 * 1024;
    return this.#read(name, options, async (endpoint, credential, signal) => {
      const response = await authorizedRequest(endpoint, this.#auth, {
        repository: name.repository,
        path: `/v2/${name.repository}/blobs/${digest}`,
        accept: "*/*",
        credential,
        crossHostRedirects: true,
        signal,
        what,
      });
      const body = await readCapped(name.registry, response, limit, signal);
      const actual = digestOf(body, digest);
      if (actual !== digest) throw mismatch(name, what, digest, actual);
      return body;
    });
  }

  /**
   * The OCI 1.1 referrers index of `digest` (the manifests whose subject it is), or undefined
   * when no endpoint implements the referrers API (they answer 404).
   */
  async referrers(
    name: RepositoryName,
    digest: string,
    options: ReadOptions = {},
  ): Promise<Buffer | undefined> {
    const maxBytes = this.#options.maxManifestBytes ?? 4 * 1024 * 1024;
    try {
      return await this.#read(name, options, (endpoint, credential, signal) =>
        readReferrers(endpoint, this.#auth, {
          repository: name.repository,
          digest,
          credential,
          maxBytes,
          signal,
        }),
      );
    } catch (error) {
      if (error instanceof RegistryError && error.code === "ERR_REGISTRY_NOT_FOUND")
        return undefined;
      throw error;
    }
  }

  /**
   * Streams the blob `digest` (a layer) of at most `size` bytes, hashed as it passes: the
   * iteration throws ERR_DIGEST_MISMATCH after the last chunk when the bytes are not the digest
   * (see blob-stream.ts). `deadline` bounds getting an answer, `signal` cancels the body.
   */
  async openBlob(
    name: RepositoryName,
    digest: string,
    options: ReadOptions & { readonly size: number; readonly signal?: AbortSignal },
  ): Promise<AsyncIterable<Buffer>> {
    return openBlobStream(this.#directory.endpoints(name.registry), this.#auth, name, digest, {
      credential: (options.keychain ?? anonymous)(name.registry),
      deadline: options.deadline ?? Date.now() + (this.#options.defaultTimeoutMs ?? 30_000),
      size: options.size,
      signal: options.signal,
    });
  }

  async close(): Promise<void> {
    await this.#directory.close();
  }

  async #read<T>(
    name: RepositoryName,
    options: ReadOptions,
    attempt: (
      endpoint: RegistryEndpoint,
      credential: ReturnType<Keychain>,
      signal: AbortSignal,
    ) => Promise<T>,
  ): Promise<T> {
    const deadline = options.deadline ?? Date.now() + (this.#options.defaultTimeoutMs ?? 30_000);
    const signal = AbortSignal.timeout(Math.max(1, deadline - Date.now()));
    const credential = (options.keychain ?? anonymous)(name.registry);
    let lastError: unknown;
    for (const endpoint of this.#directory.endpoints(name.registry)) {
      try {
        return await withRetry(() => attempt(endpoint, credential, signal), { deadline, signal });
      } catch (error) {
        lastError = error;
        if (signal.aborted) break;
      }
    }
    throw lastError;
  }
}

function mismatch(name: RepositoryName, what: string, expected: string, actual: string) {
  return new RegistryError(
    "ERR_DIGEST_MISMATCH",
    name.registry,
    `digest mismatch for ${what}: expected ${expected}, the body hashes to ${actual}`,
  );
}
