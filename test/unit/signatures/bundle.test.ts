import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import test from "ava";
import { preAuthenticationEncoding, judgeBundle } from "../../../src/signatures/bundle.ts";
import {
  parsePublicKey,
  shortKeyId,
  type SignatureProblem,
} from "../../../src/signatures/index.ts";

// A sigstore bundle counts when its DSSE envelope verifies with a trusted key and signs the
// cosign signing statement of the digest asked about; its key hint tells a changed bundle from a
// stranger's. Bundles cosign v3 really writes are judged in test/integration/signatures/.

const hex = "a".repeat(64);
const digest = `sha256:${hex}`;
const manifestDigest = `sha256:${"c".repeat(64)}`;
const IN_TOTO = "application/vnd.in-toto+json";
const qa = generateKeyPairSync("ec", { namedCurve: "P-256" });
const stranger = generateKeyPairSync("ec", { namedCurve: "P-256" });
const pem = (key: KeyObject) => key.export({ type: "spki", format: "pem" }) as string;
const qaKey = parsePublicKey(pem(qa.publicKey));
const strangerKey = parsePublicKey(pem(stranger.publicKey));
const hintOf = (id: string) => Buffer.from(id.slice(7), "hex").toString("base64");

interface BundleOptions {
  signer?: KeyObject;
  hint?: string;
  subject?: string;
  predicateType?: string;
  payloadType?: string;
  change?: (statement: Buffer) => Buffer;
}

function bundle(options: BundleOptions = {}): Buffer {
  const statement = Buffer.from(
    JSON.stringify({
      _type: "https://in-toto.io/Statement/v1",
      subject: [{ digest: { sha256: options.subject ?? hex }, annotations: {} }],
      predicateType: options.predicateType ?? "https://sigstore.dev/cosign/sign/v1",
      predicate: {},
    }),
  );
  const payloadType = options.payloadType ?? IN_TOTO;
  const signed = preAuthenticationEncoding(payloadType, statement);
  const sig = sign("sha256", signed, options.signer ?? qa.privateKey);
  const payload = options.change?.(statement) ?? statement;
  return Buffer.from(
    JSON.stringify({
      mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
      verificationMaterial: { publicKey: { hint: options.hint ?? hintOf(qaKey.id) } },
      dsseEnvelope: {
        payload: payload.toString("base64"),
        payloadType,
        signatures: [{ sig: sig.toString("base64") }],
      },
    }),
  );
}

const judge = (blob: Buffer, keys = [qaKey]) =>
  judgeBundle({ bundle: blob, manifestDigest }, digest, keys);
const problem = (value: unknown) => value as SignatureProblem;

test("the DSSE pre-authentication encoding is the spec's", (t) => {
  const encoded = preAuthenticationEncoding(
    "http://example.com/HelloWorld",
    Buffer.from("hello world"),
  );
  t.is(encoded.toString("utf8"), "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
});

test("a trusted key's bundle of this digest is verified", (t) => {
  const result = judge(bundle());
  t.like(result, { keyId: qaKey.id, format: "bundle", manifestDigest });
  t.false("reason" in result);
});

test("a bundle whose statement changed after signing names the trusted key it claims", (t) => {
  const change = (statement: Buffer) =>
    Buffer.from(statement.toString().replace('"annotations":{}', '"annotations":{"x":"y"}'));
  const result = problem(judge(bundle({ change })));
  t.is(result.reason, "bad-signature");
  t.is(result.keyId, qaKey.id);
  t.regex(
    result.message,
    new RegExp(`names trusted key ${shortKeyId(qaKey.id)}, but its signature does not verify`),
  );
});

test("a stranger's bundle is an unknown key, named by its hint", (t) => {
  const result = problem(
    judge(bundle({ signer: stranger.privateKey, hint: hintOf(strangerKey.id) })),
  );
  t.is(result.reason, "unknown-key");
  t.false("keyId" in result);
  t.regex(
    result.message,
    new RegExp(`^signed with key ${shortKeyId(strangerKey.id)}, which is not trusted`),
  );
});

test("a bundle without a usable hint that no key verifies is a bad signature", (t) => {
  for (const hint of ["", "not base64!", "c2hvcnQ="]) {
    t.is(
      problem(judge(bundle({ signer: stranger.privateKey, hint }))).reason,
      "bad-signature",
      hint,
    );
  }
});

test("a trusted key's bundle of another digest, or of another predicate, does not count", (t) => {
  const other = problem(judge(bundle({ subject: "b".repeat(64) })));
  t.is(other.reason, "digest-mismatch");
  t.regex(other.message, new RegExp(`signed sha256:b{64}, not ${digest}`));
  const attestation = problem(judge(bundle({ predicateType: "https://slsa.dev/provenance/v1" })));
  t.is(attestation.reason, "digest-mismatch");
  t.regex(
    attestation.message,
    /signed a https:\/\/slsa.dev\/provenance\/v1 statement, not a cosign/,
  );
  t.is(problem(judge(bundle({ payloadType: "text/plain" }))).reason, "digest-mismatch");
});

test("a keyless bundle (a certificate) is named as such", (t) => {
  const keyless = JSON.parse(bundle().toString());
  keyless.verificationMaterial = { certificate: { rawBytes: "AAAA" } };
  const result = problem(judge(Buffer.from(JSON.stringify(keyless))));
  t.is(result.reason, "unknown-key");
  t.regex(result.message, /^a keyless signature/);
});

test("bundles that are not what cosign writes are malformed", (t) => {
  const base = JSON.parse(bundle().toString());
  const envelope = base.dsseEnvelope;
  const variants: unknown[] = [
    "not json",
    { ...base, mediaType: "application/json" },
    { ...base, dsseEnvelope: undefined, messageSignature: {} },
    { ...base, dsseEnvelope: { ...envelope, payload: "%%%" } },
    { ...base, dsseEnvelope: { ...envelope, signatures: [] } },
    {
      ...base,
      dsseEnvelope: { ...envelope, signatures: [...envelope.signatures, ...envelope.signatures] },
    },
  ];
  for (const variant of variants) {
    const blob = Buffer.from(typeof variant === "string" ? variant : JSON.stringify(variant));
    t.is(problem(judge(blob)).reason, "malformed", JSON.stringify(variant).slice(0, 80));
  }
});
