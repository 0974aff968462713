import {
  anonymous,
  CoalescingCache,
  credentialId,
  type Keychain,
  type RegistryReader,
  type RepositoryName,
} from "../registry/index.ts";
import { bundleSignatures } from "./bundle-referrers.ts";
import { asKeySet, type KeySet } from "./key-set.ts";
import type { TrustedKey } from "./keys.ts";
import type {
  SignatureCheck,
  SignatureFormat,
  SignatureProblem,
  VerifiedSignature,
} from "./outcomes.ts";
import { readProblem, type SignatureReadOptions } from "./registry-reads.ts";
import { sigTagOf, sigTagSignatures, type Judgement } from "./sig-tag.ts";

export interface SignatureVerifierOptions {
  /** How the registries are read (endpoints, credentials, guards, size limits). */
  readonly reader: RegistryReader;
  /** How many (digest, key set) results are kept, least recently used out; default 2000. */
  readonly maxEntries?: number;
  /**
   * How long a result that a new signature could still change is kept (no signature yet, or
   * not every trusted key has signed): a QA signature is seen this soon. Default 10 s.
   */
  readonly recheckMs?: number;
  readonly now?: () => number;
}

export interface VerifyOptions {
  readonly keychain?: Keychain;
  /** Epoch ms by which the registry work must be done; what is not read by then is unknown. */
  readonly deadline: number;
}

/** Signatures cannot be unmade: a digest every trusted key has signed stays signed. */
const SIGNED_BY_ALL_MS = 24 * 3_600_000;

/** A kept result: the check (the same object for every hit) and how long it is kept. */
interface Kept {
  readonly check: SignatureCheck;
  readonly keepMs: number;
}

/** The parts of the last cache key made for a repository name object, and the key. */
interface LastKey {
  readonly registry: string;
  readonly repository: string;
  readonly digest: string;
  readonly fingerprint: string;
  readonly credential: string;
  readonly key: string;
}

type Credential = NonNullable<ReturnType<Keychain>>;

/** credentialId of each credential object (they are not changed once made), hashed once. */
const CREDENTIAL_IDS = new WeakMap<Credential, string>();

/**
 * Finds and verifies the cosign signatures of a digest in its registry, in both formats at
 * once, within a deadline. Results are kept by repository, digest, key set and credentials:
 * until every trusted key has signed, only briefly; concurrent asks share one read.
 */
export class SignatureVerifier {
  readonly #reader: RegistryReader;
  readonly #cache: CoalescingCache<Kept>;
  readonly #recheckMs: number;
  readonly #lastKeys = new WeakMap<RepositoryName, LastKey>();

  constructor(options: SignatureVerifierOptions) {
    this.#reader = options.reader;
    this.#recheckMs = options.recheckMs ?? 10_000;
    this.#cache = new CoalescingCache({
      maxEntries: options.maxEntries ?? 2000,
      ...(options.now !== undefined && { now: options.now }),
    });
  }

  /**
   * What the registry holds about the signatures of `digest` (never throws for its content).
   * `keys` may be a KeySet made once (keySetOf), so that a kept result is found without hashing.
   */
  async verify(
    name: RepositoryName,
    digest: string,
    keys: readonly TrustedKey[] | KeySet,
    options: VerifyOptions,
  ): Promise<SignatureCheck> {
    const set = asKeySet(keys);
    const kept = await this.#cache.getOrLoad(
      this.#keyOf(name, digest, set, options),
      () => this.#load(name, digest, set.keys, options),
      (result) => result.keepMs,
    );
    return kept.check;
  }

  /**
   * The kept result of verify() for the same arguments, without awaiting anything; undefined
   * when none is kept (expired, or never read). Throws what the keychain throws.
   */
  cached(
    name: RepositoryName,
    digest: string,
    keys: KeySet,
    options: Pick<VerifyOptions, "keychain">,
  ): SignatureCheck | undefined {
    return this.#cache.get(this.#keyOf(name, digest, keys, options))?.check;
  }

  /**
   * The cache key of a verification. The last one made for each repository name object is
   * reused when every part is the same, so a warm lookup hashes a string it hashed before
   * rather than a new one (the parts are compared, never assumed from the object).
   */
  #keyOf(
    name: RepositoryName,
    digest: string,
    keys: KeySet,
    options: Pick<VerifyOptions, "keychain">,
  ): string {
    const credential = idOf((options.keychain ?? anonymous)(name.registry));
    const last = this.#lastKeys.get(name);
    if (
      last?.registry === name.registry &&
      last.repository === name.repository &&
      last.digest === digest &&
      last.fingerprint === keys.fingerprint &&
      last.credential === credential
    ) {
      return last.key;
    }
    const key = `${name.registry}/${name.repository}@${digest}|${keys.fingerprint}|${credential}`;
    this.#lastKeys.set(name, {
      registry: name.registry,
      repository: name.repository,
      digest,
      fingerprint: keys.fingerprint,
      credential,
      key,
    });
    return key;
  }

  async #load(
    name: RepositoryName,
    digest: string,
    keys: readonly TrustedKey[],
    options: VerifyOptions,
  ): Promise<Kept> {
    const signal = AbortSignal.timeout(Math.max(1, options.deadline - Date.now()));
    const read: SignatureReadOptions = { ...options, signal };
    const found = await Promise.all([
      settle("sig-tag", sigTagSignatures(this.#reader, name, digest, keys, read)),
      settle("bundle", bundleSignatures(this.#reader, name, digest, keys, read)),
    ]);
    const judgements = found.flat();
    const verified = distinct(judgements.filter((j): j is VerifiedSignature => !("reason" in j)));
    const problems = judgements.filter((j): j is SignatureProblem => "reason" in j);
    if (judgements.length === 0) {
      problems.push({
        reason: "no-signature",
        message: `${name.registry}/${name.repository}@${digest} is not signed: there is no cosign signature tag (${sigTagOf(digest)}) and no sigstore bundle referring to it`,
      });
    }
    const unknown = problems.some((p) => p.reason === "registry-error");
    const signers = new Set(verified.map((v) => v.keyId));
    const everyKey = keys.length > 0 && keys.every((k) => signers.has(k.id));
    const keepMs = unknown ? 0 : everyKey ? SIGNED_BY_ALL_MS : this.#recheckMs;
    // Frozen: every caller of the key shares this result until it expires.
    const check = Object.freeze({
      verified: Object.freeze(verified),
      problems: Object.freeze(problems),
    });
    return { check, keepMs };
  }
}

/** credentialId(credential), computed once per credential object. */
function idOf(credential: Credential | undefined): string {
  if (credential === undefined) return credentialId(undefined);
  let id = CREDENTIAL_IDS.get(credential);
  if (id === undefined) {
    id = credentialId(credential);
    CREDENTIAL_IDS.set(credential, id);
  }
  return id;
}

/** A format's judgements, or the one problem that reading it ran into. */
async function settle(format: SignatureFormat, work: Promise<Judgement[]>): Promise<Judgement[]> {
  try {
    return await work;
  } catch (error) {
    const what =
      format === "sig-tag" ? "the cosign signature tag" : "the sigstore bundle referrers";
    return [readProblem(error, { format }, what)];
  }
}

/** The same signature by the same key found twice (a repeated layer) counts once. */
function distinct(verified: VerifiedSignature[]): VerifiedSignature[] {
  const seen = new Set<string>();
  return verified.filter((v) => {
    const id = `${v.keyId}|${v.signatureDigest}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
