import { arrayAt, asObject, decodeBase64, objectAt, parseObject, stringAt } from "./json.ts";
import { shortKeyId, signedBy, type TrustedKey } from "./keys.ts";
import type { SignatureProblem, VerifiedSignature } from "./outcomes.ts";
import { keylessMessage, sha256, unverifiedMessage } from "./simple-signing.ts";

/** `application/vnd.dev.sigstore.bundle.v0.3+json` and the other versions of the bundle. */
export const BUNDLE_MEDIA_TYPE_PREFIX = "application/vnd.dev.sigstore.bundle";
/** The in-toto predicate of a cosign image signature (`cosign sign` with bundles). */
export const SIGN_PREDICATE_TYPE = "https://sigstore.dev/cosign/sign/v1";
const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

/** A sigstore bundle as read from a referrer's layer. */
export interface BundleBlob {
  readonly bundle: Buffer;
  /** The referrer manifest it belongs to. */
  readonly manifestDigest: string;
}

/**
 * Judges one sigstore bundle as a signature of `digest`: its DSSE envelope must verify with a
 * trusted key (over the DSSE pre-authentication encoding of its payload) and its payload must be
 * an in-toto statement of the cosign signing predicate whose subject is `digest`. The bundle's
 * transparency-log entries and timestamps are not checked (see docs/signatures.md).
 */
export function judgeBundle(
  blob: BundleBlob,
  digest: string,
  keys: readonly TrustedKey[],
): VerifiedSignature | SignatureProblem {
  const where = { format: "bundle" as const, manifestDigest: blob.manifestDigest };
  const malformed = (detail: string): SignatureProblem => ({
    ...where,
    reason: "malformed",
    message: `the sigstore bundle of referrer ${blob.manifestDigest} ${detail}`,
  });
  const bundle = parseObject(blob.bundle);
  if (!(stringAt(bundle, "mediaType") ?? "").startsWith(BUNDLE_MEDIA_TYPE_PREFIX)) {
    return malformed("is not a sigstore bundle (no bundle mediaType)");
  }
  const material = objectAt(bundle, "verificationMaterial");
  if (material?.certificate !== undefined || material?.x509CertificateChain !== undefined) {
    return { ...where, reason: "unknown-key", message: keylessMessage() };
  }
  const envelope = objectAt(bundle, "dsseEnvelope");
  if (envelope === undefined) {
    return malformed("has no DSSE envelope (cosign signs images with DSSE)");
  }
  const payloadType = stringAt(envelope, "payloadType") ?? "";
  const payload = decodeBase64(stringAt(envelope, "payload"));
  const signatures = arrayAt(envelope, "signatures").map((s) =>
    decodeBase64(stringAt(asObject(s), "sig")),
  );
  const signature = signatures[0];
  if (payload === undefined || signature === undefined || signatures.length !== 1) {
    return malformed("has a DSSE envelope without one base64 payload and one base64 signature");
  }
  const signed = preAuthenticationEncoding(payloadType, payload);
  const key = keys.find((candidate) => signedBy(candidate, signed, signature));
  if (key === undefined) {
    return notVerified(where, keys, stringAt(objectAt(material, "publicKey"), "hint"));
  }
  const statement = parseObject(payload);
  const predicateType = stringAt(statement, "predicateType");
  const subjects = arrayAt(statement, "subject").map((s) =>
    stringAt(objectAt(asObject(s), "digest"), "sha256"),
  );
  const hex = digest.startsWith("sha256:") ? digest.slice("sha256:".length) : undefined;
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE || predicateType !== SIGN_PREDICATE_TYPE) {
    return {
      ...where,
      keyId: key.id,
      reason: "digest-mismatch",
      message: `key ${shortKeyId(key.id)} signed a ${predicateType ?? payloadType} statement, not a cosign image signature`,
    };
  }
  if (hex === undefined || !subjects.includes(hex)) {
    return {
      ...where,
      keyId: key.id,
      reason: "digest-mismatch",
      message: `key ${shortKeyId(key.id)} signed ${subjects.map((s) => `sha256:${s ?? "?"}`).join(", ") || "no subject"}, not ${digest}: the bundle was copied from another image`,
    };
  }
  return { ...where, keyId: key.id, signatureDigest: sha256(signature), identity: undefined };
}

/** DSSE v1 PAE: what a DSSE signature is made over. */
export function preAuthenticationEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `),
    type,
    Buffer.from(` ${payload.length} `),
    payload,
  ]);
}

/**
 * The bundle's key hint (cosign writes the SHA-256 of the key there, our key id) says whether a
 * signature that does not verify claims a trusted key (it was changed) or another key.
 */
function notVerified(
  where: { readonly format: "bundle"; readonly manifestDigest: string },
  keys: readonly TrustedKey[],
  hint: string | undefined,
): SignatureProblem {
  const claimed = hint === undefined ? undefined : keys.find((k) => hintOf(k) === hint);
  if (claimed !== undefined) {
    return {
      ...where,
      keyId: claimed.id,
      reason: "bad-signature",
      message: `the bundle names trusted key ${shortKeyId(claimed.id)}, but its signature does not verify: the payload or the signature was changed after signing`,
    };
  }
  const named = decodeBase64(hint);
  if (named?.length === 32) {
    const id = `sha256:${named.toString("hex")}`;
    return {
      ...where,
      reason: "unknown-key",
      message: `signed with key ${shortKeyId(id)}, which is not trusted (trusted: ${keys.map((k) => shortKeyId(k.id)).join(", ") || "none"})`,
    };
  }
  return { ...where, reason: "bad-signature", message: unverifiedMessage(keys) };
}

/** cosign's key hint: the base64 SHA-256 of the key's DER SubjectPublicKeyInfo. */
function hintOf(key: TrustedKey): string {
  return Buffer.from(key.id.slice("sha256:".length), "hex").toString("base64");
}
