import type { VerifySignaturesFn } from "../admission/index.ts";
import type { Policy, SignatureKey, SignatureObservation } from "../policy/index.ts";
import { RegistryReader, type Keychain, type RepositoryName } from "../registry/index.ts";
import { parsePublicKey, SignatureVerifier, type TrustedKey } from "../signatures/index.ts";

const RETIRE_AFTER_MS = 60_000;

/**
 * Signature verification for the policy in force: reads go to the registries the policy
 * allows (a new reader and verifier when they change), keys are parsed once per PEM, and the
 * verifier keeps each result by repository, digest, key-set fingerprint and credentials (see
 * SignatureVerifier), so a signed digest is verified once, not per Pod. Nothing is read unless
 * a `signatures` rule matches the image.
 */
export class PolicySignatures {
  readonly #policy: () => Policy | undefined;
  #verifier: SignatureVerifier | undefined;
  #reader: RegistryReader | undefined;
  #key = "";
  /** Parsed keys by PEM text: the policy checked them at load, parsing cannot fail here. */
  readonly #keys = new Map<string, TrustedKey>();

  constructor(policy: () => Policy | undefined) {
    this.#policy = policy;
  }

  readonly verify: VerifySignaturesFn = async (name, digest, keys, options) =>
    this.#verify(name, digest, keys, options);

  async #verify(
    name: RepositoryName,
    digest: string,
    keys: readonly SignatureKey[],
    options: { readonly keychain: Keychain; readonly deadline: number },
  ): Promise<SignatureObservation> {
    const trusted = keys.map((key) => this.#trusted(key));
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

  #trusted(key: SignatureKey): TrustedKey {
    let trusted = this.#keys.get(key.pem);
    if (trusted === undefined) {
      trusted = parsePublicKey(key.pem, `key ${key.name}`);
      if (this.#keys.size > 1000) this.#keys.clear();
      this.#keys.set(key.pem, trusted);
    }
    return trusted;
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
