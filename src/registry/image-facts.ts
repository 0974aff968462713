import type { BaseDeclaration } from "../reference/index.ts";
import { baseOf, basesInAnnotations } from "./base-image.ts";
import { CoalescingCache } from "./cache.ts";
import { anonymous, credentialId, type Keychain } from "./credentials.ts";
import type { DispatcherFactory } from "./endpoints.ts";
import { readImageConfig, readManifestTree, type ManifestTree } from "./image-tree.ts";
import type { RegistryConfig } from "./registry-config.ts";
import { RegistryReader, type RepositoryName } from "./registry-reader.ts";

export interface FactsOptions {
  readonly keychain?: Keychain;
  /** Epoch ms by which the answer is needed. */
  readonly deadline: number;
}

export interface ImageFactsOptions {
  readonly registries?: readonly RegistryConfig[] | undefined;
  readonly dispatcherFactory?: DispatcherFactory;
  /** How many digests' facts are kept (least recently used go first); default 2000. */
  readonly maxEntries?: number;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Digests never change what they name: a fact stays until it is crowded out. */
const KEEP_MS = 24 * 3_600_000;

/**
 * What digestpin reads about an image beyond "which digest does the tag have": its manifests
 * (layers, annotations) and the base images it declares. Everything is keyed by digest, so it
 * is cached (bounded, least recently used out) and concurrent asks share one read; failures are
 * not kept. Asked only when a policy setting or a drift message needs it.
 */
export class ImageFacts {
  readonly #reader: RegistryReader;
  readonly #trees: CoalescingCache<Outcome<ManifestTree>>;
  readonly #bases: CoalescingCache<Outcome<BaseDeclaration[]>>;

  constructor(options: ImageFactsOptions = {}) {
    this.#reader = new RegistryReader({
      registries: options.registries,
      ...(options.dispatcherFactory !== undefined && {
        dispatcherFactory: options.dispatcherFactory,
      }),
    });
    const maxEntries = options.maxEntries ?? 2000;
    this.#trees = new CoalescingCache({ maxEntries });
    this.#bases = new CoalescingCache({ maxEntries });
  }

  /** The manifests of `digest` (an index and its images, or one image). */
  tree(name: RepositoryName, digest: string, options: FactsOptions): Promise<ManifestTree> {
    return this.#cached(this.#trees, name, digest, options, () =>
      readManifestTree(this.#reader, name, digest, options),
    );
  }

  /**
   * The base images `digest` declares: the index's annotations, else each platform manifest's,
   * else that image's config labels. [] when it declares none.
   */
  bases(name: RepositoryName, digest: string, options: FactsOptions): Promise<BaseDeclaration[]> {
    return this.#cached(this.#bases, name, digest, options, async () => {
      const tree = await this.tree(name, digest, options);
      const { bases, missing } = basesInAnnotations(tree);
      const labelled = await Promise.all(
        missing.map(async (image) => {
          if (image.configDigest === undefined) return undefined;
          const config = await readImageConfig(this.#reader, name, image.configDigest, options);
          return baseOf(config.labels, "config label", image.platform ?? config.platform);
        }),
      );
      return [...bases, ...labelled.filter((base) => base !== undefined)];
    });
  }

  async close(): Promise<void> {
    await this.#reader.close();
  }

  async #cached<T>(
    cache: CoalescingCache<Outcome<T>>,
    name: RepositoryName,
    digest: string,
    options: FactsOptions,
    load: () => Promise<T>,
  ): Promise<T> {
    // Keyed by who asks too: what one pod's pull secret may read is not everyone's to see.
    const credential = credentialId((options.keychain ?? anonymous)(name.registry));
    const key = `${name.registry}/${name.repository}@${digest}|${credential}`;
    const outcome = await cache.getOrLoad(
      key,
      () =>
        load().then(
          (value): Outcome<T> => ({ ok: true, value }),
          (error: unknown): Outcome<T> => ({ ok: false, error }),
        ),
      (o) => (o.ok ? KEEP_MS : 0),
    );
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }
}
