import { createHash } from "node:crypto";
import { decodeBase64, objectAt, parseObject, stringAt } from "./json.ts";
import { shortKeyId, signedBy, type TrustedKey } from "./keys.ts";
import type { SignatureProblem, VerifiedSignature } from "./outcomes.ts";

/** The media type of cosign's payload layers in a `.sig` manifest. */
export const SIMPLE_SIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json";
/** The layer annotation holding the base64 signature of the payload. */
export const SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";
/** Present on keyless signatures: the Fulcio certificate that signed. */
export const CERTIFICATE_ANNOTATION = "dev.sigstore.cosign/certificate";
export const COSIGN_SIGNATURE_TYPE = "cosign container image signature";

/** One payload layer of a `.sig` manifest, as read from the registry. */
export interface SimpleSigningLayer {
  readonly payload: Buffer;
  readonly annotations: Readonly<Record<string, string>>;
  /** The `.sig` manifest it belongs to. */
  readonly manifestDigest: string;
}

/**
 * Judges one cosign simple-signing signature of `digest`: the base64 signature annotation must
 * verify over the payload's exact bytes with a trusted key, and the payload must say it is a
 * cosign image signature of `digest` (`critical.type`, `critical.image.docker-manifest-digest`).
 */
export function judgeSimpleSigning(
  layer: SimpleSigningLayer,
  digest: string,
  keys: readonly TrustedKey[],
): VerifiedSignature | SignatureProblem {
  const where = { format: "sig-tag" as const, manifestDigest: layer.manifestDigest };
  const signature = decodeBase64(layer.annotations[SIGNATURE_ANNOTATION]);
  if (signature === undefined) {
    return {
      ...where,
      reason: "malformed",
      message: `a layer of the .sig manifest ${layer.manifestDigest} has no base64 signature in its ${SIGNATURE_ANNOTATION} annotation`,
    };
  }
  const key = keys.find((candidate) => signedBy(candidate, layer.payload, signature));
  if (key === undefined) {
    return layer.annotations[CERTIFICATE_ANNOTATION] !== undefined
      ? { ...where, reason: "unknown-key", message: keylessMessage() }
      : { ...where, reason: "bad-signature", message: unverifiedMessage(keys) };
  }
  const payload = parseObject(layer.payload);
  const critical = objectAt(payload, "critical");
  const type = stringAt(critical, "type");
  const signed = stringAt(objectAt(critical, "image"), "docker-manifest-digest");
  if (type !== COSIGN_SIGNATURE_TYPE || signed !== digest) {
    return {
      ...where,
      keyId: key.id,
      reason: "digest-mismatch",
      message:
        type !== COSIGN_SIGNATURE_TYPE
          ? `key ${shortKeyId(key.id)} signed a payload that is not a cosign image signature (critical.type ${JSON.stringify(type ?? null)})`
          : `key ${shortKeyId(key.id)} signed ${signed ?? "no digest"}, not ${digest}: the signature was copied from another image`,
    };
  }
  return {
    ...where,
    keyId: key.id,
    signatureDigest: sha256(signature),
    identity: stringAt(objectAt(critical, "identity"), "docker-reference"),
  };
}

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** The message for a signature no trusted key verifies and that does not say who made it. */
export function unverifiedMessage(keys: readonly TrustedKey[]): string {
  const ids = keys.map((key) => shortKeyId(key.id)).join(", ");
  return keys.length === 0
    ? "no key is trusted for this image, so its signature cannot be verified"
    : `no trusted key (${ids}) verifies the signature: it was made with another key, or its payload was changed after signing`;
}

export function keylessMessage(): string {
  return "a keyless signature (a Fulcio certificate, not a key); digestpin verifies signatures made with a cosign key (cosign sign --key)";
}
