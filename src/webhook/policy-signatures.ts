import type { VerifySignaturesFn } from "../admission/index.ts";
import { DigestpinError } from "../errors.ts";
import type { ObjectKey } from "../kube/index.ts";
import type { Policy, SignatureKey, SignatureObservation } from "../policy/index.ts";
import { RegistryReader, type RepositoryName } from "../registry/index.ts";
import {
  keySetOf,
  parsePublicKey,
  SignatureKeyError,
  SignatureVerifier,
  type KeySet,
  type SignatureCheck,
  type TrustedKey,
} from "../signatures/index.ts";

const RETIRE_AFTER_MS = 60_000;

export interface PolicySignaturesOptions {
  /** Reads a key of a Secret or ConfigMap in digestpin's namespace (`secretRef`, `configMapRef`). */
  readonly readObjectKey?: (ref: ObjectKey) => Promise<string | undefined>;
  /** digestpin's namespace, for messages. */
  readonly namespace?: string;
}

type VerifyOptions = Parameters<VerifySignaturesFn>[3];

/** A rule's keys, parsed: the key set results are kept by, and each key id's policy name. */
interface ResolvedKeys {
  readonly set: KeySet;
  readonly nameOf: ReadonlyMap<string, string>;
  /** The observation made of each kept check (the verifier's, the same object per hit). */
  readonly observed: WeakMap<SignatureCheck, SignatureObservation>;
}

/** A rule's keys that cannot be used: the observation every verification of them is. */
type KeysFailure = Extract<SignatureObservation, { readonly error: unknown }>;

/**
 * Signature verification for the policy in force: reads go to the registries the policy
 * allows (a new reader and verifier when they change), keys are parsed once per PEM (those in
 * Secrets and ConfigMaps read through `readObjectKey`), and the verifier keeps each result by
 * repository, digest, key-set fingerprint and credentials (see SignatureVerifier), so a signed
 * digest is verified once, not per Pod. Nothing is read unless a `signatures` rule matches.
 *
 * The warm path is nearly free: a rule whose keys are all inline is resolved once per keys
 * list (the policy's object: an edited policy is a new one, never served from the memo), and a
 * kept result is answered at once, not as a promise; only a miss goes to the registry.
 */
export class PolicySignatures {
  readonly #policy: () => Policy | undefined;
  readonly #options: PolicySignaturesOptions;
  #verifier: SignatureVerifier | undefined;
  #reader: RegistryReader | undefined;
  /** The registries the verifier reads (the policy's object), and their JSON text. */
  #registries: Policy["settings"]["registries"] | undefined;
  #key = "";
  /** Parsed keys by PEM text. */
  readonly #keys = new Map<string, TrustedKey>();
  /** The resolution of each keys list given only inline (`pem`), by the policy's list. */
  readonly #inline = new WeakMap<readonly SignatureKey[], ResolvedKeys | KeysFailure>();

  constructor(policy: () => Policy | undefined, options: PolicySignaturesOptions = {}) {
    this.#policy = policy;
    this.#options = options;
  }

  readonly verify: VerifySignaturesFn = (name, digest, keys, options) => {
    try {
      const inline = this.#inlineKeys(keys);
      if (inline === undefined) return this.#verifyRead(name, digest, keys, options);
      if ("error" in inline) return inline;
      const verifier = this.#current();
      const kept = verifier.cached(name, digest, inline.set, options);
      if (kept !== undefined) return observation(inline, kept);
      return verifier
        .verify(name, digest, inline.set, options)
        .then((check) => observation(inline, check));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };

  /** Verification with keys read from Secrets or ConfigMaps (they may change at any time). */
  async #verifyRead(
    name: RepositoryName,
    digest: string,
    keys: readonly SignatureKey[],
    options: VerifyOptions,
  ): Promise<SignatureObservation> {
    let resolved: ResolvedKeys;
    try {
      resolved = resolvedKeys(keys, await Promise.all(keys.map((key) => this.#trusted(key))));
    } catch (error) {
      return keysFailure(error);
    }
    return observation(resolved, await this.#current().verify(name, digest, resolved.set, options));
  }

  /** The resolution of `keys` when every one is inline (made once per list); else undefined. */
  #inlineKeys(keys: readonly SignatureKey[]): ResolvedKeys | KeysFailure | undefined {
    let inline = this.#inline.get(keys);
    if (inline !== undefined) return inline;
    if (!keys.every((key) => key.pem !== undefined)) return undefined;
    try {
      inline = resolvedKeys(
        keys,
        keys.map((key) => this.#parsed(key.pem ?? "", `key ${key.name}`)),
      );
    } catch (error) {
      inline = keysFailure(error);
    }
    this.#inline.set(keys, inline);
    return inline;
  }

  async close(): Promise<void> {
    await this.#reader?.close();
  }

  async #trusted(key: SignatureKey): Promise<TrustedKey> {
    const { pem, source } = await this.#pemOf(key);
    return this.#parsed(pem, source);
  }

  /** The key of `pem`, parsed once (throws SignatureKeyError naming `source`). */
  #parsed(pem: string, source: string): TrustedKey {
    let trusted = this.#keys.get(pem);
    if (trusted === undefined) {
      trusted = parsePublicKey(pem, source);
      if (this.#keys.size > 1000) this.#keys.clear();
      this.#keys.set(pem, trusted);
    }
    return trusted;
  }

  /** The PEM of `key`: inline, or read from its Secret or ConfigMap. */
  async #pemOf(key: SignatureKey): Promise<{ pem: string; source: string }> {
    if (key.pem !== undefined) return { pem: key.pem, source: `key ${key.name}` };
    const ref = key.secretRef ?? key.configMapRef;
    const kind = key.secretRef === undefined ? "ConfigMap" : "Secret";
    const where = `${kind.toLowerCase()} ${this.#options.namespace ?? ""}/${ref?.name ?? ""}`;
    const source = `key ${key.name} (${where}, key ${ref?.key ?? ""})`;
    const read = this.#options.readObjectKey;
    if (ref === undefined || read === undefined) {
      throw new SignatureKeyError(
        `${source} cannot be read: the webhook has no API server access; give the key inline (pem)`,
      );
    }
    let pem: string | undefined;
    try {
      pem = await read({ kind, name: ref.name, key: ref.key });
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new SignatureKeyError(
        `${source} cannot be read (${why}); retry, or check digestpin's RBAC`,
      );
    }
    if (pem === undefined) {
      throw new SignatureKeyError(
        `${source} does not exist; create it with the cosign.pub: kubectl -n ${this.#options.namespace ?? "NAMESPACE"} create ${kind === "Secret" ? "secret generic" : "configmap"} ${ref.name} --from-file=${ref.key}=cosign.pub`,
      );
    }
    return { pem, source };
  }

  #current(): SignatureVerifier {
    const registries = this.#policy()?.settings.registries ?? undefined;
    if (this.#verifier !== undefined && registries === this.#registries) return this.#verifier;
    this.#registries = registries;
    const key = JSON.stringify(registries ?? null);
    if (this.#verifier === undefined || key !== this.#key) {
      const retired = this.#reader;
      if (retired !== undefined) setTimeout(() => void retired.close(), RETIRE_AFTER_MS).unref();
      this.#reader = new RegistryReader({ registries });
      this.#verifier = new SignatureVerifier({ reader: this.#reader });
      this.#key = key;
    }
    return this.#verifier;
  }
}

/** `keys` of a rule and what they parsed to, in the same order. */
function resolvedKeys(keys: readonly SignatureKey[], trusted: readonly TrustedKey[]): ResolvedKeys {
  return {
    set: keySetOf(trusted),
    nameOf: new Map(trusted.map((key, i) => [key.id, keys[i]?.name ?? key.id])),
    observed: new WeakMap(),
  };
}

/** A key that cannot be used, as the observation of every digest verified with it. */
function keysFailure(error: unknown): KeysFailure {
  if (!(error instanceof DigestpinError)) throw error;
  return { error: { code: error.code, message: error.message, unavailable: false } };
}

/** What `check` says about the signatures, the signers named by the policy (made once per check). */
function observation(keys: ResolvedKeys, check: SignatureCheck): SignatureObservation {
  let observed = keys.observed.get(check);
  if (observed === undefined) {
    // Frozen: every review of the digest shares it while the check is kept.
    observed = Object.freeze({
      signers: Object.freeze(
        check.verified.map((v) => ({
          keyName: keys.nameOf.get(v.keyId) ?? v.keyId,
          keyId: v.keyId,
          signatureDigest: v.signatureDigest,
          format: v.format,
        })),
      ),
      problems: Object.freeze(
        check.problems.map((p) => ({ reason: p.reason, message: p.message })),
      ),
    });
    keys.observed.set(check, observed);
  }
  return observed;
}
