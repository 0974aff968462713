import { createHash, generateKeyPairSync, sign } from "node:crypto";
import test from "ava";
import {
  keySetFingerprint,
  parsePublicKey,
  shortKeyId,
  SignatureKeyError,
} from "../../../src/signatures/index.ts";
import { signedBy } from "../../../src/signatures/keys.ts";

// Keys are read as cosign writes them (PEM SubjectPublicKeyInfo); anything else is refused with
// a line that says what to give instead. The real cosign's keys are read in
// test/integration/signatures/cosign-keys.test.ts.

const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" });
const p521 = generateKeyPairSync("ec", { namedCurve: "P-521" });
const pem = (pair: typeof ec) => pair.publicKey.export({ type: "spki", format: "pem" }) as string;

test("ECDSA P-256, P-384, P-521 and RSA public keys are read, with the SHA-256 of their DER as id", (t) => {
  for (const [pair, algorithm] of [
    [ec, "ecdsa-p256"],
    [p384, "ecdsa-p384"],
    [p521, "ecdsa-p521"],
    [rsa, "rsa"],
  ] as const) {
    const key = parsePublicKey(pem(pair));
    const der = pair.publicKey.export({ type: "spki", format: "der" });
    t.is(key.algorithm, algorithm);
    t.is(key.id, `sha256:${createHash("sha256").update(der).digest("hex")}`);
    t.is(shortKeyId(key.id), key.id.slice(0, 19));
    t.regex(shortKeyId(key.id), /^sha256:[0-9a-f]{12}$/);
  }
});

test("the PKCS #1 form of an RSA public key is the same key", (t) => {
  const pkcs1 = rsa.publicKey.export({ type: "pkcs1", format: "pem" }) as string;
  t.true(pkcs1.startsWith("-----BEGIN RSA PUBLIC KEY-----"));
  t.is(parsePublicKey(pkcs1).id, parsePublicKey(pem(rsa)).id);
});

test("text around the PEM block (a ConfigMap value, comments) is ignored", (t) => {
  t.is(parsePublicKey(`# QA key\n\n${pem(ec)}\n`).id, parsePublicKey(pem(ec)).id);
});

test("a private key is refused, never turned into its public half", (t) => {
  const privatePem = ec.privateKey.export({ type: "pkcs8", format: "pem" }) as string;
  const error = t.throws(() => parsePublicKey(privatePem, "key qa"), {
    instanceOf: SignatureKeyError,
  });
  t.is(error.code, "ERR_SIGNATURE_KEY");
  t.regex(error.message, /^key qa is a private key \(PRIVATE KEY\); give its public half/);
});

test("a certificate (keyless) is refused", (t) => {
  const fake = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  t.throws(() => parsePublicKey(fake), {
    message:
      /is a CERTIFICATE, not a public key; certificates \(keyless signing\) are not supported/,
  });
});

test("other curves, short RSA keys, garbage and several keys in one entry are refused", (t) => {
  const k1 = generateKeyPairSync("ec", { namedCurve: "secp256k1" });
  t.throws(() => parsePublicKey(pem(k1)), {
    message: /ECDSA key on secp256k1; digestpin verifies ECDSA P-256/,
  });
  const small = generateKeyPairSync("rsa", { modulusLength: 1024 });
  t.throws(() => parsePublicKey(pem(small)), { message: /RSA key of 1024 bits; at least 2048/ });
  t.throws(() => parsePublicKey("ssh-ed25519 AAAA…"), { message: /is not a PEM public key/ });
  t.throws(
    () => parsePublicKey("-----BEGIN PUBLIC KEY-----\nnot base64!\n-----END PUBLIC KEY-----"),
    {
      message: /cannot be read as a public key/,
    },
  );
  t.throws(() => parsePublicKey(pem(ec) + pem(rsa)), {
    message: /holds 2 PEM blocks \(PUBLIC KEY, PUBLIC KEY\); give one public key per entry/,
  });
});

test("a key set has one fingerprint whatever its order or repetitions", (t) => {
  const [a, b, c] = [pem(ec), pem(rsa), pem(p384)].map((text) => parsePublicKey(text));
  const one = keySetFingerprint([a!, b!, c!]);
  t.is(keySetFingerprint([c!, a!, b!, a!]), one);
  t.not(keySetFingerprint([a!, b!]), one);
  t.regex(one, /^sha256:[0-9a-f]{64}$/);
});

test("an Ed25519 key is refused: cosign signs with Ed25519ph, which node:crypto cannot verify", (t) => {
  const ed = generateKeyPairSync("ed25519");
  t.throws(() => parsePublicKey(pem(ed), "key qa"), {
    message: /^key qa is an Ed25519 key; cosign signs with those in the pre-hashed Ed25519ph form/,
  });
});

test("signatures verify as cosign makes them (the curve's hash), and nothing else does", (t) => {
  const data = Buffer.from("payload");
  const keys = {
    ec: parsePublicKey(pem(ec)),
    p384: parsePublicKey(pem(p384)),
    p521: parsePublicKey(pem(p521)),
    rsa: parsePublicKey(pem(rsa)),
  };
  t.true(signedBy(keys.ec, data, sign("sha256", data, ec.privateKey)));
  t.true(signedBy(keys.p384, data, sign("sha384", data, p384.privateKey)));
  t.true(signedBy(keys.p521, data, sign("sha512", data, p521.privateKey)));
  t.true(signedBy(keys.rsa, data, sign("sha256", data, rsa.privateKey)));
  t.false(signedBy(keys.p384, data, sign("sha256", data, p384.privateKey)));
  const ecSignature = sign("sha256", data, ec.privateKey);
  t.false(signedBy(keys.ec, Buffer.from("payloaD"), ecSignature));
  t.false(signedBy(keys.rsa, data, ecSignature));
  t.false(signedBy(keys.p384, data, ecSignature));
  t.false(signedBy(keys.ec, data, Buffer.alloc(0)));
  t.false(signedBy(keys.ec, data, Buffer.from("garbage that is not DER")));
});
