import type { VerifySignaturesFn } from "../admission/index.ts";
import { DigestpinError } from "../errors.ts";
import type { ObjectKey } from "../kube/index.ts";
import type { Policy, SignatureKey, SignatureObservation } from "../policy/index.ts";
import { RegistryReader, type Keychain, type RepositoryName } from "../registry/index.ts";
import {
  parsePublicKey,
  SignatureKeyError,
  SignatureVerifier,
  type TrustedKey,
} from "../signatures/index.ts";

const RETIRE_AFTER_MS = 60_000;

export interface PolicySignaturesOptions {
  /** Reads a key of a Secret or ConfigMap in digestpin's namespace (`secretRef`, `configMapRef`). */
  readonly readObjectKey?: (ref: ObjectKey) => Promise<string | undefined>;
  /** digestpin's namespace, for messages. */
  readonly namespace?: string;
}

/**
 * Signature verification for the policy in force: reads go to the registries the policy
 * allows (a new reader and verifier when they change), keys are parsed once per PEM (those in
 * Secrets and ConfigMaps read through `readObjectKey`), and the verifier keeps each result by
 * repository, digest, key-set fingerprint and credentials (see SignatureVerifier), so a signed
 * digest is verified once, not per Pod. Nothing is read unless a `signatures` rule matches.
 */
export class PolicySignatures {
  readonly #policy: () => Policy | undefined;
  readonly #options: PolicySignaturesOptions;
  #verifier: SignatureVerifier | undefined;
  #reader: RegistryReader | undefined;
  #key = "";
  /** Parsed keys by PEM text. */
  readonly #keys = new Map<string, TrustedKey>();

  constructor(policy: () => Policy | undefined, options: PolicySignaturesOptions = {}) {
    this.#policy = policy;
    this.#options = options;
  }

  readonly verify: VerifySignaturesFn = async (name, digest, keys, options) =>
    this.#verify(name, digest, keys, options);

  async #verify(
    name: RepositoryName,
    digest: string,
    keys: readonly SignatureKey[],
    options: { readonly keychain: Keychain; readonly deadline: number },
  ): Promise<SignatureObservation> {
    let trusted: TrustedKey[];
    try {
      trusted = await Promise.all(keys.map((key) => this.#trusted(key)));
    } catch (error) {
      if (!(error instanceof DigestpinError)) throw error;
      return { error: { code: error.code, message: error.message, unavailable: false } };
    }
    const check = await this.#current().verify(name, digest, trusted, options);
    const nameOf = new Map(trusted.map((key, i) => [key.id, keys[i]?.name ?? key.id]));
    return {
      signers: check.verified.map((v) => ({
        keyName: nameOf.get(v.keyId) ?? v.keyId,
        keyId: v.keyId,
        signatureDigest: v.signatureDigest,
        format: v.format,
      })),
      problems: check.problems.map((p) => ({ reason: p.reason, message: p.message })),
    };
  }

  async close(): Promise<void> {
    await this.#reader?.close();
  }

  async #trusted(key: SignatureKey): Promise<TrustedKey> {
    const { pem, source } = await this.#pemOf(key);
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
