import type { AtOnce } from "../at-once.ts";
import { Authenticator } from "./auth.ts";
import { CoalescingCache } from "./cache.ts";
import { anonymous, credentialId, type Keychain } from "./credentials.ts";
import { EndpointDirectory, type DispatcherFactory } from "./endpoints.ts";
import { RegistryError } from "./errors.ts";
import { fetchManifest, type ManifestAnswer } from "./fetch-manifest.ts";
import { realmGuard } from "./realm-guard.ts";
import type { RegistryConfig } from "./registry-config.ts";
import { withRetry } from "./retry.ts";

/** The part of an image reference the resolver needs (see src/reference). */
export interface ResolvableReference {
  readonly registry: string;
  readonly repository: string;
  readonly tag: string | null;
  readonly digest: string | null;
}

export interface ResolverOptions {
  /** The policy's registries; by default any registry by name (address guards apply). */
  readonly registries?: readonly RegistryConfig[] | undefined;
  /** How long what a registry said about a tag is reused. */
  readonly cacheTtlMs?: number;
  /** How long a failure is reused (keeps an outage from multiplying requests). */
  readonly negativeTtlMs?: number;
  readonly maxCacheEntries?: number;
  readonly maxManifestBytes?: number;
  /** Budget of a resolve call without an explicit deadline. */
  readonly defaultTimeoutMs?: number;
  readonly dispatcherFactory?: DispatcherFactory;
  readonly now?: () => number;
  readonly random?: () => number;
  /** Told of cache lookups and registry requests (for metrics); must not throw. */
  readonly report?: ResolverReport;
}

/** What a Resolver tells its owner (metrics), as it happens. */
export interface ResolverReport {
  /** A resolve was answered from the cache (hit), or was not (miss: it asks the registry, or
   * waits for the same question already asked). */
  cacheLookup(result: "hit" | "miss"): void;
  /** A registry was asked (once per question, retries and mirrors included): "ok" or the
   * RegistryError code. */
  registryAsked(registry: string, outcome: string): void;
}

export interface ResolveOptions {
  readonly keychain?: Keychain;
  /** Epoch milliseconds by which the answer is needed (the webhook's budget). */
  readonly deadline?: number;
  readonly signal?: AbortSignal;
  /** Hash the manifest body instead of trusting Docker-Content-Digest. */
  readonly verify?: boolean;
  /** List the per-platform digests of an index. */
  readonly platforms?: boolean;
}

/** The last cache key made for each reference object, and what it was made of. */
const KEYS = new WeakMap<ResolvableReference, { id: string; flags: number; key: string }>();

/**
 * The cache key of a question: the reference, the credential's identity and the options that
 * change the answer. A policy's parsed references are kept objects, so a warm review gets the
 * key string made before (its hash kept, compared by identity) instead of building it anew.
 */
function cacheKey(
  ref: ResolvableReference,
  reference: string,
  id: string,
  options: ResolveOptions,
): string {
  const flags = (options.verify === true ? 1 : 0) + (options.platforms === true ? 2 : 0);
  const kept = KEYS.get(ref);
  if (kept?.id === id && kept.flags === flags) return kept.key;
  const letters = `${flags & 1 ? "v" : ""}${flags & 2 ? "p" : ""}`;
  const key = `${ref.registry}/${ref.repository}|${reference}|${id}|${letters}`;
  KEYS.set(ref, { id, flags, key });
  return key;
}

type Outcome = { ok: true; answer: ManifestAnswer } | { ok: false; error: RegistryError };

/**
 * Answers "what digest does this registry serve for repo:tag right now?" over the OCI
 * distribution API: mirrors first, auth, retries within the deadline, and a short-lived cache
 * keyed by reference and credential identity, with concurrent misses sharing one request.
 */
export class Resolver {
  readonly #directory: EndpointDirectory;
  readonly #auth: Authenticator;
  readonly #cache: CoalescingCache<Outcome>;
  readonly #options: Required<
    Pick<ResolverOptions, "cacheTtlMs" | "negativeTtlMs" | "maxManifestBytes" | "defaultTimeoutMs">
  >;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #report: ResolverReport | undefined;

  constructor(options: ResolverOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#report = options.report;
    this.#random = options.random ?? Math.random;
    this.#directory = new EndpointDirectory(options.registries, options.dispatcherFactory);
    this.#auth = new Authenticator({
      checkRealm: realmGuard(options.registries),
      now: this.#now,
    });
    this.#cache = new CoalescingCache({
      maxEntries: options.maxCacheEntries ?? 10_000,
      now: this.#now,
    });
    this.#options = {
      cacheTtlMs: options.cacheTtlMs ?? 30_000,
      negativeTtlMs: options.negativeTtlMs ?? 2_000,
      maxManifestBytes: options.maxManifestBytes ?? 4 * 1024 * 1024,
      defaultTimeoutMs: options.defaultTimeoutMs ?? 10_000,
    };
  }

  /** The digest the registry serves for `ref` (resolveNow, always as a promise). */
  resolve(ref: ResolvableReference, options: ResolveOptions = {}): Promise<ManifestAnswer> {
    const answer = this.resolveNow(ref, options);
    return answer instanceof Promise ? answer : Promise.resolve(answer);
  }

  /**
   * The digest the registry serves for `ref`: a cached answer at once, not as a promise (a hit
   * is the webhook's common case, and its reviews are answered without waiting on anything);
   * a miss, or a cached failure, as the promise of the registry's answer.
   */
  resolveNow(ref: ResolvableReference, options: ResolveOptions = {}): AtOnce<ManifestAnswer> {
    let key: string;
    let credential: ReturnType<Keychain>;
    const reference = ref.digest ?? ref.tag ?? "latest";
    try {
      credential = (options.keychain ?? anonymous)(ref.registry);
      key = cacheKey(ref, reference, credentialId(credential), options);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const cached = this.#cache.get(key);
    this.#report?.cacheLookup(cached === undefined ? "miss" : "hit");
    if (cached?.ok === true) return cached.answer;
    const outcome =
      cached ??
      this.#cache.getOrLoad(
        key,
        () =>
          this.#load(ref, reference, options, credential).then(
            (answer): Outcome => {
              this.#report?.registryAsked(ref.registry, "ok");
              return { ok: true, answer };
            },
            (error: unknown): Outcome => {
              const failure = asRegistryError(ref.registry, error);
              this.#report?.registryAsked(ref.registry, failure.code);
              return { ok: false, error: failure };
            },
          ),
        (o) => (o.ok ? this.#options.cacheTtlMs : this.#options.negativeTtlMs),
      );
    return outcome instanceof Promise ? outcome.then(answerOf) : settled(outcome);
  }

  /** Forgets every cached answer (used after an approval so the next review asks again). */
  clearCache(): void {
    this.#cache.clear();
  }

  /**
   * Forgets the cached answers for these tags (`registry/repository:tag`, as pin keys are
   * written), whatever the credentials: after their pin changed, the next review asks again.
   */
  forgetTags(tags: Iterable<string>): void {
    const names = new Set<string>();
    for (const tag of tags) {
      const colon = tag.lastIndexOf(":");
      if (colon > tag.lastIndexOf("/")) names.add(`${tag.slice(0, colon)}|${tag.slice(colon + 1)}`);
    }
    if (names.size === 0) return;
    this.#cache.deleteWhere((key) => {
      const second = key.indexOf("|", key.indexOf("|") + 1);
      return names.has(key.slice(0, second));
    });
  }

  async close(): Promise<void> {
    await this.#directory.close();
  }

  async #load(
    ref: ResolvableReference,
    reference: string,
    options: ResolveOptions,
    credential: ReturnType<Keychain>,
  ): Promise<ManifestAnswer> {
    const deadline = options.deadline ?? this.#now() + this.#options.defaultTimeoutMs;
    const timeout = AbortSignal.timeout(Math.max(1, deadline - this.#now()));
    const signal =
      options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
    const query = {
      repository: ref.repository,
      reference,
      expectedDigest: ref.digest ?? undefined,
      credential,
      verify: options.verify === true,
      platforms: options.platforms === true,
      maxBytes: this.#options.maxManifestBytes,
      signal,
    };
    let lastError: unknown;
    for (const endpoint of this.#directory.endpoints(ref.registry)) {
      try {
        return await withRetry(() => fetchManifest(endpoint, this.#auth, query), {
          deadline,
          signal,
          now: this.#now,
          random: this.#random,
        });
      } catch (error) {
        lastError = error;
        if (signal.aborted) break;
      }
    }
    throw lastError;
  }
}

function answerOf(outcome: Outcome): ManifestAnswer {
  if (!outcome.ok) throw outcome.error;
  return outcome.answer;
}

function settled(outcome: Outcome): Promise<ManifestAnswer> {
  return outcome.ok ? Promise.resolve(outcome.answer) : Promise.reject(outcome.error);
}

function asRegistryError(registry: string, error: unknown): RegistryError {
  if (error instanceof RegistryError) return error;
  return new RegistryError(
    "ERR_REGISTRY_PROTOCOL",
    registry,
    `unexpected failure: ${String(error)}`,
    { cause: error },
  );
}
