import type { Metrics } from "../observability/index.ts";
import type { Policy } from "../policy/index.ts";
import type { ImageReference } from "../reference/index.ts";
import {
  findRegistryConfig,
  RegistryError,
  Resolver,
  type ManifestAnswer,
  type ResolveOptions,
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
  readonly #metrics: Metrics | undefined;
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
    this.#metrics = metrics;
    this.#cacheTtlMs = options.cacheTtlMs;
  }

  readonly resolve = async (
    reference: ImageReference,
    options: ResolveOptions,
  ): Promise<ManifestAnswer> => {
    try {
      const answer = await this.#current().resolve(reference, options);
      this.#metrics?.registryRequests.inc({
        registry: this.#label(reference.registry),
        outcome: "ok",
      });
      return answer;
    } catch (error) {
      const outcome = error instanceof RegistryError ? error.code : "error";
      this.#metrics?.registryRequests.inc({ registry: this.#label(reference.registry), outcome });
      throw error;
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
