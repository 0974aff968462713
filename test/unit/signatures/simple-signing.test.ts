import { generateKeyPairSync, sign } from "node:crypto";
import test from "ava";
import { parsePublicKey } from "../../../src/signatures/index.ts";
import {
  CERTIFICATE_ANNOTATION,
  judgeSimpleSigning,
  SIGNATURE_ANNOTATION,
} from "../../../src/signatures/simple-signing.ts";

// A `.sig` layer counts when a trusted key signed its exact payload bytes and the payload is a
// cosign image signature of the digest asked about. Real cosign payloads are judged in
// test/integration/signatures/.

const digest = `sha256:${"a".repeat(64)}`;
const other = `sha256:${"b".repeat(64)}`;
const qa = generateKeyPairSync("ec", { namedCurve: "P-256" });
const stranger = generateKeyPairSync("ec", { namedCurve: "P-256" });
const qaKey = parsePublicKey(qa.publicKey.export({ type: "spki", format: "pem" }) as string);
const manifestDigest = `sha256:${"c".repeat(64)}`;

function payloadOf(signed: string, type = "cosign container image signature"): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { "docker-reference": "registry.test/team/app" },
        image: { "docker-manifest-digest": signed },
        type,
      },
      optional: null,
    }),
  );
}

function layer(payload: Buffer, signer = qa.privateKey, extra: Record<string, string> = {}) {
  const signature = sign("sha256", payload, signer).toString("base64");
  return { payload, annotations: { [SIGNATURE_ANNOTATION]: signature, ...extra }, manifestDigest };
}

test("a trusted key's signature of this digest is verified, with its key and identity", (t) => {
  const result = judgeSimpleSigning(layer(payloadOf(digest)), digest, [qaKey]);
  t.like(result, {
    keyId: qaKey.id,
    format: "sig-tag",
    manifestDigest,
    identity: "registry.test/team/app",
  });
  t.false("reason" in result);
  t.regex((result as { signatureDigest: string }).signatureDigest, /^sha256:[0-9a-f]{64}$/);
});

test("a valid signature of another digest is a digest mismatch naming both", (t) => {
  const result = judgeSimpleSigning(layer(payloadOf(other)), digest, [qaKey]);
  t.like(result, { reason: "digest-mismatch", keyId: qaKey.id });
  t.regex((result as { message: string }).message, new RegExp(`signed ${other}, not ${digest}`));
});

test("a valid signature of a payload that is not an image signature does not count", (t) => {
  const result = judgeSimpleSigning(layer(payloadOf(digest, "something else")), digest, [qaKey]);
  t.like(result, { reason: "digest-mismatch", keyId: qaKey.id });
  t.regex((result as { message: string }).message, /not a cosign image signature/);
});

test("a payload changed after signing does not verify", (t) => {
  const signed = layer(payloadOf(other));
  const tampered = { ...signed, payload: payloadOf(digest) };
  const result = judgeSimpleSigning(tampered, digest, [qaKey]);
  t.like(result, { reason: "bad-signature" });
  t.regex(
    (result as { message: string }).message,
    /no trusted key \(sha256:[0-9a-f]{12}\) verifies the signature/,
  );
});

test("a signature by another key is not verified by the trusted one", (t) => {
  const result = judgeSimpleSigning(layer(payloadOf(digest), stranger.privateKey), digest, [qaKey]);
  t.like(result, { reason: "bad-signature" });
  t.false("keyId" in result);
});

test("a keyless signature (with a certificate) is named as such", (t) => {
  const keyless = layer(payloadOf(digest), stranger.privateKey, { [CERTIFICATE_ANNOTATION]: "x" });
  const result = judgeSimpleSigning(keyless, digest, [qaKey]);
  t.like(result, { reason: "unknown-key" });
  t.regex((result as { message: string }).message, /^a keyless signature/);
});

test("a signature annotation that is missing or not base64 is malformed", (t) => {
  const payload = payloadOf(digest);
  for (const annotations of [
    {},
    { [SIGNATURE_ANNOTATION]: "not base64!" },
    { [SIGNATURE_ANNOTATION]: "" },
  ]) {
    t.like(judgeSimpleSigning({ payload, annotations, manifestDigest }, digest, [qaKey]), {
      reason: "malformed",
    });
  }
});

test("a signed payload that is not JSON does not count", (t) => {
  const result = judgeSimpleSigning(layer(Buffer.from("{not json")), digest, [qaKey]);
  t.like(result, { reason: "digest-mismatch", keyId: qaKey.id });
});
