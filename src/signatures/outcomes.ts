/**
 * Where a signature was found: cosign's `sha256-<hex>.sig` tag (simple signing, cosign v2), or a
 * sigstore bundle attached as an OCI 1.1 referrer (cosign v3's default).
 */
export type SignatureFormat = "sig-tag" | "bundle";

/** A signature of the digest that a trusted key made. */
export interface VerifiedSignature {
  /** The key's id (`sha256:` of its DER SubjectPublicKeyInfo). */
  readonly keyId: string;
  /** `sha256:` of the signature's bytes: names this signature wherever it is stored. */
  readonly signatureDigest: string;
  readonly format: SignatureFormat;
  /** The manifest it was read from: the `.sig` manifest, or the referrer's. */
  readonly manifestDigest: string;
  /** The image name the signer wrote into the payload (informative, not checked). */
  readonly identity: string | undefined;
}

/**
 * Why a signature did not count, or why none was found:
 * - `no-signature`: the registry holds no cosign signature of the digest (in either format);
 * - `unknown-key`: a signature names a key that is not among the trusted ones;
 * - `bad-signature`: no trusted key verifies the signature over its payload (the payload or the
 *   signature was changed, or it was made by a key that it does not name);
 * - `digest-mismatch`: a valid signature, but of another image (or not an image signature);
 * - `malformed`: what the registry holds is not a readable cosign signature;
 * - `registry-error`: the registry could not be read in time; nothing is known.
 */
export type ProblemReason =
  | "no-signature"
  | "unknown-key"
  | "bad-signature"
  | "digest-mismatch"
  | "malformed"
  | "registry-error";

export interface SignatureProblem {
  readonly reason: ProblemReason;
  /** The trusted key it concerns, when one is known (a valid signature of another digest). */
  readonly keyId?: string;
  readonly format?: SignatureFormat;
  /** The `.sig` or referrer manifest the signature was read from. */
  readonly manifestDigest?: string;
  /** One line for a person: what was found and what is wrong with it. */
  readonly message: string;
}

/** What the registry holds about the signatures of one digest, judged against a key set. */
export interface SignatureCheck {
  readonly verified: readonly VerifiedSignature[];
  readonly problems: readonly SignatureProblem[];
}
