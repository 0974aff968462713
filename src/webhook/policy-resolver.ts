import type { AtOnce } from "../at-once.ts";
import type { Metrics } from "../observability/index.ts";
import type { Policy } from "../policy/index.ts";
import type { ImageReference } from "../reference/index.ts";
import {
  findRegistryConfig,
  Resolver,
  type ManifestAnswer,
  type ResolveOptions,
  type ResolverReport,
} from "../registry/index.ts";

/** Old resolvers may still serve in-flight reviews for this long before they are closed. */
const RETIRE_AFTER_MS = 60_000;

/**
 * The registry resolver for the policy in force: the same one (open connections, cached
 * answers) while the policy's registries and cacheTTL stay the same, a new one when they
 * change. A new policy that changed pins forgets the cached answers for those tags only, so the
 * next review of them asks the registry again (a cached answer from before an approval would
 * otherwise contradict the new pin, "pinned NEW, the registry serves OLD", until it expired),
 * and every other answer stays: recording pins does not send reviews back to the registry.
 * Pins themselves are never cached here: a changed pin is in force at once. The policy source
 * tells it of each new policy (policyChanged); a policy it was not told of, or one built whole,
 * empties the cache.
 */
export class PolicyResolver {
  readonly #policy: () => Policy | undefined;
  readonly #report: ResolverReport | undefined;
  #resolver: Resolver | undefined;
  /** The policy the resolver's cache was last checked against. */
  #seenPolicy: Policy | undefined;
  /** The settings object the resolver was last checked against, and their serialized form. */
  #seen: Policy["settings"] | undefined;
  #key = "";
  /** Overrides the policy's cacheTTL (the drift scan asks with 0: never a cached answer). */
  readonly #cacheTtlMs: number | undefined;
  /** The last policy policyChanged was told of (its changes are already applied). */
  #announced: Policy | undefined;

  constructor(
    policy: () => Policy | undefined,
    metrics?: Metrics,
    options: { readonly cacheTtlMs?: number } = {},
  ) {
    this.#policy = policy;
    this.#cacheTtlMs = options.cacheTtlMs;
    if (metrics !== undefined) {
      const { cacheLookups, registryRequests } = metrics;
      const hit = cacheLookups.labels("hit");
      const miss = cacheLookups.labels("miss");
      // Counted where the Resolver says they happen: a request when a registry is asked (not
      // for an answer from the cache), a lookup for every resolve of a resolver that caches
      // (the drift scan's, cacheTtlMs 0, looks nothing up).
      const caching = options.cacheTtlMs !== 0;
      this.#report = {
        cacheLookup: (result) => {
          if (caching) (result === "hit" ? hit : miss).inc();
        },
        registryAsked: (registry, outcome) => {
          registryRequests.labels(this.#label(registry), outcome).inc();
        },
      };
    }
  }

  /** Resolver.resolve with the resolver for the policy in force (resolveNow, as a promise). */
  readonly resolve = (
    reference: ImageReference,
    options: ResolveOptions,
  ): Promise<ManifestAnswer> => Promise.resolve(this.resolveNow(reference, options));

  /** Resolver.resolveNow with the resolver for the policy in force (a cache hit at once). */
  readonly resolveNow = (
    reference: ImageReference,
    options: ResolveOptions,
  ): AtOnce<ManifestAnswer> => {
    try {
      return this.#current().resolveNow(reference, options);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };

  /** To be called with every policy put in force, in order (PolicySource.onChange). */
  readonly policyChanged = (policy: Policy): void => {
    this.#announced = policy;
    if (policy.pinChanges === undefined) this.#resolver?.clearCache();
    else this.#resolver?.forgetTags(policy.pinChanges);
  };

  async close(): Promise<void> {
    await this.#resolver?.close();
  }

  #current(): Resolver {
    const policy = this.#policy();
    if (this.#resolver !== undefined && policy === this.#seenPolicy) return this.#resolver;
    this.#seenPolicy = policy;
    if (policy !== this.#announced) this.#resolver?.clearCache();
    const settings = policy?.settings;
    // A new policy generation (a pin added) usually keeps its settings: compare cheaply first.
    if (this.#resolver !== undefined && settings === this.#seen) return this.#resolver;
    this.#seen = settings;
    const registries = settings?.registries ?? undefined;
    const cacheTtlMs = this.#cacheTtlMs ?? settings?.cacheTTLMs;
    const key = JSON.stringify([registries, cacheTtlMs]);
    if (this.#resolver === undefined || key !== this.#key) {
      const retired = this.#resolver;
      if (retired !== undefined) setTimeout(() => void retired.close(), RETIRE_AFTER_MS).unref();
      this.#resolver = new Resolver({
        registries,
        ...(cacheTtlMs !== undefined && { cacheTtlMs }),
        ...(this.#report !== undefined && { report: this.#report }),
      });
      this.#key = key;
    }
    return this.#resolver;
  }

  /** The metrics label of a registry: its policy entry (a bounded set), never the raw name. */
  #label(registry: string): string {
    const registries = this.#policy()?.settings.registries ?? undefined;
    return findRegistryConfig(registry, registries)?.host ?? "not-allowed";
  }
}
