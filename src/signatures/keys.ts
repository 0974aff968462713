import { createHash, createPublicKey, verify, type KeyObject } from "node:crypto";
import { SignatureKeyError } from "./errors.ts";

/**
 * The key types digestpin verifies cosign signatures of. `cosign generate-key-pair` writes ECDSA
 * P-256; the others come from `cosign import-key-pair`.
 */
export type KeyAlgorithm = "ecdsa-p256" | "ecdsa-p384" | "ecdsa-p521" | "rsa";

/** The hash cosign (sigstore's default for the key type) signs with. */
const HASH_OF: Readonly<Record<KeyAlgorithm, string>> = {
  "ecdsa-p256": "sha256",
  "ecdsa-p384": "sha384",
  "ecdsa-p521": "sha512",
  rsa: "sha256",
};

const CURVES: Readonly<Record<string, KeyAlgorithm>> = {
  prime256v1: "ecdsa-p256",
  secp384r1: "ecdsa-p384",
  secp521r1: "ecdsa-p521",
};

/** A public key whose signatures digestpin accepts. */
export interface TrustedKey {
  /** `sha256:` and the hex SHA-256 of the key's DER SubjectPublicKeyInfo. */
  readonly id: string;
  readonly algorithm: KeyAlgorithm;
  readonly publicKey: KeyObject;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
const PUBLIC_LABELS = new Set(["PUBLIC KEY", "RSA PUBLIC KEY"]);
const MIN_RSA_BITS = 2048;

/**
 * Reads one PEM public key as `cosign generate-key-pair` and `cosign public-key` write it
 * (`-----BEGIN PUBLIC KEY-----`, SubjectPublicKeyInfo). `source` names where it came from in
 * the error. Private keys and certificates are refused, never converted.
 */
export function parsePublicKey(pem: string, source = "the public key"): TrustedKey {
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  const labels = blocks.map((block) => block[1] ?? "");
  if (blocks.length !== 1) {
    throw new SignatureKeyError(
      blocks.length === 0
        ? `${source} is not a PEM public key (-----BEGIN PUBLIC KEY-----); give the cosign.pub that cosign generate-key-pair wrote`
        : `${source} holds ${blocks.length} PEM blocks (${labels.join(", ")}); give one public key per entry`,
    );
  }
  const label = labels[0] ?? "";
  if (!PUBLIC_LABELS.has(label)) {
    throw new SignatureKeyError(
      label.includes("PRIVATE")
        ? `${source} is a private key (${label}); give its public half (cosign public-key --key …) and keep the private key out of the cluster`
        : `${source} is a ${label}, not a public key; certificates (keyless signing) are not supported, give a cosign public key`,
    );
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: blocks[0]?.[0] ?? "", format: "pem" });
  } catch (error) {
    throw new SignatureKeyError(`${source} cannot be read as a public key: ${messageOf(error)}`, {
      cause: error,
    });
  }
  const algorithm = algorithmOf(publicKey, source);
  const der = publicKey.export({ type: "spki", format: "der" });
  // Frozen: a key set's fingerprint is made of the ids of its keys once (see key-set.ts).
  const id = `sha256:${createHash("sha256").update(der).digest("hex")}`;
  return Object.freeze({ id, algorithm, publicKey });
}

function algorithmOf(key: KeyObject, source: string): KeyAlgorithm {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case "ec": {
      const algorithm = CURVES[details.namedCurve ?? ""];
      if (algorithm !== undefined) return algorithm;
      throw new SignatureKeyError(
        `${source} is an ECDSA key on ${details.namedCurve ?? "an unknown curve"}; digestpin verifies ECDSA P-256 (what cosign generate-key-pair makes), P-384, P-521 and RSA keys`,
      );
    }
    case "rsa":
      if ((details.modulusLength ?? 0) >= MIN_RSA_BITS) return "rsa";
      throw new SignatureKeyError(
        `${source} is an RSA key of ${details.modulusLength ?? 0} bits; at least ${MIN_RSA_BITS} are required`,
      );
    case "ed25519":
      throw new SignatureKeyError(
        `${source} is an Ed25519 key; cosign signs with those in the pre-hashed Ed25519ph form, which digestpin cannot verify: use an ECDSA key (cosign generate-key-pair) or an RSA key`,
      );
    default:
      throw new SignatureKeyError(
        `${source} is a ${key.asymmetricKeyType ?? "unknown"} key; digestpin verifies ECDSA P-256, P-384, P-521 and RSA keys`,
      );
  }
}

/** `sha256:0123456789ab`: a key id as people see it (12 hex digits, like short digests). */
export function shortKeyId(id: string): string {
  return id.slice(0, "sha256:".length + 12);
}

/** One name for a set of keys, whatever their order: what a verification result is kept by. */
export function keySetFingerprint(keys: readonly TrustedKey[]): string {
  const ids = [...new Set(keys.map((key) => key.id))].sort();
  return `sha256:${createHash("sha256").update(ids.join("\n")).digest("hex")}`;
}

/**
 * Whether `signature` over `data` was made by `key`, as cosign signs: ECDSA (ASN.1 DER) over the
 * curve's hash, RSA PKCS #1 v1.5 over SHA-256. Never throws: bytes that are not a signature of
 * this kind simply do not verify.
 */
export function signedBy(key: TrustedKey, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify(HASH_OF[key.algorithm], data, key.publicKey, signature);
  } catch {
    return false;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
