import { generateKeyPairSync } from "node:crypto";
import test from "ava";
import { parsePublicKey, type KeyAlgorithm } from "../../../src/signatures/index.ts";
import { createCosign, type CosignTool } from "../../harness/cosign.ts";
import { signaturesTestbed } from "./testbed.ts";

// Keys as the real cosign makes them: generate-key-pair (ECDSA P-256), and ECDSA P-384 and RSA
// keys imported with import-key-pair; each signs an image with cosign v2 (.sig tag) and v3
// (bundle), and digestpin verifies every one with the public key cosign wrote.

const bed = signaturesTestbed(test, "cosign");

const pkcs8 = (pair: { privateKey: { export(o: object): string | Buffer } }) =>
  pair.privateKey.export({ type: "pkcs8", format: "pem" }) as string;

const imported: readonly [KeyAlgorithm, () => string][] = [
  ["ecdsa-p256", () => pkcs8(generateKeyPairSync("ec", { namedCurve: "P-256" }))],
  ["ecdsa-p384", () => pkcs8(generateKeyPairSync("ec", { namedCurve: "P-384" }))],
  ["rsa", () => pkcs8(generateKeyPairSync("rsa", { modulusLength: 3072 }))],
];

const tools: readonly CosignTool[] = ["cosign", "cosign3"];

for (const tool of tools) {
  test(`${tool} generate-key-pair writes an ECDSA P-256 key; public-key prints the same key`, async (t) => {
    const cosign = await createCosign(t, bed().crane, tool);
    const pair = await cosign.generateKeyPair();
    const key = parsePublicKey(pair.publicKeyPem);
    t.is(key.algorithm, "ecdsa-p256");
    const printed = await cosign.run(["public-key", "--key", pair.privateKeyFile]);
    t.is(parsePublicKey(printed).id, key.id);
  });

  for (const [algorithm, make] of imported) {
    test(`${tool} signs with an imported ${algorithm} key and digestpin verifies it`, async (t) => {
      const { registry, crane, verify, qa } = bed();
      const cosign = await createCosign(t, crane, tool);
      const pair = await cosign.importKeyPair(make());
      const key = parsePublicKey(pair.publicKeyPem);
      t.is(key.algorithm, algorithm);
      const repository = `keys/${tool}-${algorithm}`;
      const digest = await bed().movedTag(repository);
      await cosign.sign(registry.ref(`${repository}@${digest}`), pair);
      const check = await verify(repository, digest, [qa.key, key]);
      t.deepEqual(check.problems, []);
      t.deepEqual(
        check.verified.map((v) => [v.keyId, v.format]),
        [[key.id, tool === "cosign" ? "sig-tag" : "bundle"]],
      );
    });
  }
}

test("an Ed25519 key cosign imports is refused, saying why (cosign signs Ed25519ph)", async (t) => {
  const cosign = await createCosign(t, bed().crane, "cosign");
  const pair = await cosign.importKeyPair(pkcs8(generateKeyPairSync("ed25519")));
  t.throws(() => parsePublicKey(pair.publicKeyPem, "key ed"), {
    code: "ERR_SIGNATURE_KEY",
    message: /^key ed is an Ed25519 key; cosign signs with those in the pre-hashed Ed25519ph form/,
  });
});
