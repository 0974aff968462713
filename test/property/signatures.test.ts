import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import test from "ava";
import fc from "fast-check";
import { judgeBundle, preAuthenticationEncoding } from "../../src/signatures/bundle.ts";
import {
  parsePublicKey,
  SignatureKeyError,
  type SignatureProblem,
  type VerifiedSignature,
} from "../../src/signatures/index.ts";
import { judgeSimpleSigning, SIGNATURE_ANNOTATION } from "../../src/signatures/simple-signing.ts";
import { anyString } from "./arbitraries.ts";

// Signatures come from registries we do not control: whatever bytes a payload, an annotation or a
// bundle holds, judging them answers (verified, or a problem with a reason and one line) and
// never throws; and nothing but the signed bytes themselves ever verifies.

const REASONS = ["unknown-key", "bad-signature", "digest-mismatch", "malformed"];
const hex = "a".repeat(64);
const digest = `sha256:${hex}`;
const manifestDigest = `sha256:${"c".repeat(64)}`;
const qa = generateKeyPairSync("ec", { namedCurve: "P-256" });
const key = parsePublicKey(qa.publicKey.export({ type: "spki", format: "pem" }) as string);

const statement = Buffer.from(
  JSON.stringify({
    _type: "https://in-toto.io/Statement/v1",
    subject: [{ digest: { sha256: hex } }],
    predicateType: "https://sigstore.dev/cosign/sign/v1",
    predicate: {},
  }),
);
const signature = sign(
  "sha256",
  preAuthenticationEncoding("application/vnd.in-toto+json", statement),
  qa.privateKey,
);
const bundleText = JSON.stringify({
  mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
  verificationMaterial: { publicKey: { hint: "" } },
  dsseEnvelope: {
    payload: statement.toString("base64"),
    payloadType: "application/vnd.in-toto+json",
    signatures: [{ sig: signature.toString("base64") }],
  },
});

/** The judgement's contract: a verified signature of our key, or a problem that explains. */
function checkJudgement(result: VerifiedSignature | SignatureProblem): boolean {
  if ("reason" in result) {
    assert.ok(REASONS.includes(result.reason), result.reason);
    assert.ok(result.message.length > 0 && !result.message.includes("\n"), result.message);
    return false;
  }
  assert.equal(result.keyId, key.id);
  return true;
}

/** `text` with up to 3 characters replaced, inserted or removed. */
const edited = (text: string) =>
  fc
    .array(fc.tuple(fc.nat({ max: text.length }), fc.constantFrom("", "A", "=", '"', "}", "0")), {
      minLength: 1,
      maxLength: 3,
    })
    .map((edits) =>
      edits.reduce((s, [at, c]) => s.slice(0, at) + c + s.slice(at + (c === "" ? 1 : 0)), text),
    );

test("a bundle edited anywhere never throws, and verifies only if its signed bytes are intact", (t) => {
  let verified = 0;
  fc.assert(
    fc.property(edited(bundleText), (text) => {
      const result = judgeBundle({ bundle: Buffer.from(text), manifestDigest }, digest, [key]);
      if (!checkJudgement(result)) return;
      verified++;
      const envelope = JSON.parse(text).dsseEnvelope;
      assert.deepEqual(Buffer.from(envelope.payload, "base64"), statement);
      assert.deepEqual(Buffer.from(envelope.signatures[0].sig, "base64"), signature);
    }),
    { numRuns: 3000 },
  );
  t.log(`${verified} of 3000 edits left the signed bytes intact (hint, whitespace, padding bits)`);
  t.true(verified < 3000);
});

test("any bytes as a bundle, a payload or an annotation are judged, never thrown", (t) => {
  t.notThrows(() => {
    fc.assert(
      fc.property(anyString, anyString, (payload, annotation) => {
        checkJudgement(
          judgeBundle({ bundle: Buffer.from(payload), manifestDigest }, digest, [key]),
        );
        const layer = {
          payload: Buffer.from(payload),
          annotations: { [SIGNATURE_ANNOTATION]: annotation },
          manifestDigest,
        };
        checkJudgement(judgeSimpleSigning(layer, digest, [key]));
      }),
      { numRuns: 3000 },
    );
  });
});

test("any text as a public key is read or refused with ERR_SIGNATURE_KEY", (t) => {
  const pem = qa.publicKey.export({ type: "spki", format: "pem" }) as string;
  t.notThrows(() => {
    fc.assert(
      fc.property(fc.oneof(anyString, edited(pem)), (text) => {
        try {
          parsePublicKey(text);
        } catch (error) {
          assert.ok(error instanceof SignatureKeyError, String(error));
          assert.ok(!error.message.includes("\n"), error.message);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
