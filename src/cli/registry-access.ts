import { parseDuration, type LookupRequest, type RegistryObservation } from "../policy/index.ts";
import type { ImageReference } from "../reference/index.ts";
import {
  ImageFacts,
  readImageDetails,
  RegistryError,
  RegistryReader,
  Resolver,
  type ImageDetails,
  type Keychain,
  type LayerInfo,
  type ManifestAnswer,
  type RepositoryName,
} from "../registry/index.ts";
import type { CliIO } from "./command.ts";
import {
  cliRegistryError,
  keychainFromFlags,
  registriesFromFlags,
  registryOptions,
  registryOptionsUsage,
  type RegistryFlags,
} from "./registry-flags.ts";

/** Registry options of pin, diff, approve and check: registry-flags.ts plus a time budget. */
export const lookupOptions = { ...registryOptions, timeout: { type: "string" } } as const;

export const lookupUsage = `Registry access:
  --timeout DURATION          Budget per image for registry requests (default 30s)
${registryOptionsUsage}`;

export interface LookupFlags extends RegistryFlags {
  readonly timeout?: string | undefined;
}

/** What the CLI asks registries, with the user's credentials and CA flags. */
export interface RegistrySession {
  /** The digest the registry serves for the reference (its digest, if it has one). */
  resolve(reference: ImageReference, platforms?: boolean): Promise<ManifestAnswer>;
  /** Manifests, configs and layers of `digest` in the reference's repository. */
  details(reference: ImageReference, digest: string): Promise<ImageDetails>;
  /** decide()'s lookup: failures become observations, it never throws. */
  lookup(request: LookupRequest): Promise<RegistryObservation>;
  /** Streams a layer of the reference's repository, verified against its digest as it ends. */
  openLayer(reference: RepositoryName, layer: LayerInfo): Promise<AsyncIterable<Buffer>>;
  /** Manifests and declared base images by digest, kept for the session. */
  readonly facts: ImageFacts;
  readonly keychain: Keychain;
  /** One budget (--timeout) from now, as an epoch-ms deadline. */
  deadline(): number;
  close(): Promise<void>;
}

/** A session from the flags; a string is a usage error. */
export async function openRegistrySession(
  flags: LookupFlags,
  env: CliIO["env"],
): Promise<RegistrySession | string> {
  const timeout = parseDuration(flags.timeout ?? "30s");
  if (!timeout.ok) return `--timeout: ${timeout.problem}`;
  const registries = await registriesFromFlags(flags);
  const keychain: Keychain = await keychainFromFlags(flags, env);
  const resolver = new Resolver({ registries, cacheTtlMs: 60_000 });
  const reader = new RegistryReader({ registries });
  const facts = new ImageFacts({ registries });
  const deadline = () => Date.now() + timeout.ms;
  const resolve = (reference: ImageReference, platforms = false) =>
    resolver
      .resolve(reference, { keychain, deadline: deadline(), platforms })
      .catch((error: unknown) => {
        throw cliRegistryError(error);
      });
  return {
    resolve,
    details: (reference, digest) =>
      readImageDetails(reader, reference, digest, { keychain, deadline: deadline() }).catch(
        (error: unknown) => {
          throw cliRegistryError(error);
        },
      ),
    lookup: async (request) => {
      try {
        return { digest: (await resolve(request.reference)).digest };
      } catch (error) {
        const failure =
          error instanceof RegistryError
            ? error
            : new RegistryError("ERR_REGISTRY_PROTOCOL", request.reference.registry, String(error));
        const { code, message, unavailable } = failure;
        return { error: { code, message, unavailable } };
      }
    },
    openLayer: (reference, layer) =>
      reader.openBlob(reference, layer.digest, {
        keychain,
        deadline: deadline(),
        size: layer.size,
      }),
    facts,
    keychain,
    deadline,
    close: async () => {
      await Promise.all([resolver.close(), reader.close(), facts.close()]);
    },
  };
}

/**
 * `fn` over `items`, at most `limit` at a time, results in order. `progress` is called after
 * each item with how many are done.
 */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
  progress: (done: number) => void = () => undefined,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
      progress(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A progress counter on stderr for long runs: a line at every tenth of the way. */
export function progressLine(io: CliIO, what: string, total: number): (done: number) => void {
  if (total < 5) return () => undefined;
  let shown = 0;
  return (done) => {
    const tenth = Math.floor((done * 10) / total);
    if (tenth > shown || done === total) {
      shown = tenth;
      io.stderr(`${what} ${done}/${total}\n`);
    }
  };
}
