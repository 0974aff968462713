import type { ImageFactsSource } from "../admission/index.ts";
import type { Policy } from "../policy/index.ts";
import type { BaseDeclaration } from "../reference/index.ts";
import {
  ImageFacts,
  type FactsOptions,
  type ManifestTree,
  type RepositoryName,
} from "../registry/index.ts";

const RETIRE_AFTER_MS = 60_000;

/**
 * ImageFacts for the policy in force: reads go to the registries the policy allows, with its
 * mirrors and CAs; a new reader (and an empty cache) when the registries change. Nothing is
 * read unless `baseImages: require-pinned` or a drift message asks (see decide-facts.ts).
 */
export class PolicyImageFacts implements ImageFactsSource {
  readonly #policy: () => Policy | undefined;
  #facts: ImageFacts | undefined;
  #seen: Policy["settings"] | undefined;
  #key = "";

  constructor(policy: () => Policy | undefined) {
    this.#policy = policy;
  }

  tree(name: RepositoryName, digest: string, options: FactsOptions): Promise<ManifestTree> {
    return this.#current().tree(name, digest, options);
  }

  bases(name: RepositoryName, digest: string, options: FactsOptions): Promise<BaseDeclaration[]> {
    return this.#current().bases(name, digest, options);
  }

  async close(): Promise<void> {
    await this.#facts?.close();
  }

  #current(): ImageFacts {
    const settings = this.#policy()?.settings;
    if (this.#facts !== undefined && settings === this.#seen) return this.#facts;
    this.#seen = settings;
    const registries = settings?.registries ?? undefined;
    const key = JSON.stringify(registries ?? null);
    if (this.#facts === undefined || key !== this.#key) {
      const retired = this.#facts;
      if (retired !== undefined) setTimeout(() => void retired.close(), RETIRE_AFTER_MS).unref();
      this.#facts = new ImageFacts({ registries });
      this.#key = key;
    }
    return this.#facts;
  }
}
