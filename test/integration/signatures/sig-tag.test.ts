import { createHash } from "node:crypto";
import test from "ava";
import { pushRaw } from "../../harness/cosign.ts";
import { signaturesTestbed } from "./testbed.ts";

// cosign v2 signs into the `sha256-<hex>.sig` tag: a manifest whose layers are simple-signing
// payloads, each with its signature in an annotation. What the real cosign wrote is verified;
// what an attacker could write instead is refused with the reason.

const bed = signaturesTestbed(test, "cosign");

test("QA's cosign sign --key of a moved tag's new digest verifies, naming QA's key", async (t) => {
  const { registry, crane, cosign, qa, verify } = bed();
  const digest = await bed().movedTag("team/app");
  await cosign.sign(registry.ref(`team/app@${digest}`), qa);
  const check = await verify("team/app", digest, [qa.key]);
  t.deepEqual(check.problems, []);
  t.is(check.verified.length, 1);
  const sig = await crane.manifest(registry.ref(`team/app:${digest.replace(":", "-")}.sig`));
  const layer = (sig.json.layers as any[])[0];
  const signature = Buffer.from(layer.annotations["dev.cosignproject.cosign/signature"], "base64");
  t.deepEqual(check.verified[0], {
    keyId: qa.key.id,
    signatureDigest: `sha256:${createHash("sha256").update(signature).digest("hex")}`,
    format: "sig-tag",
    manifestDigest: await crane.digest(registry.ref(`team/app:${digest.replace(":", "-")}.sig`)),
    identity: registry.ref("team/app"),
  });
});

test("an unsigned digest has no signature", async (t) => {
  const { qa, verify } = bed();
  const digest = await bed().movedTag("team/unsigned");
  const check = await verify("team/unsigned", digest, [qa.key]);
  t.deepEqual(check.verified, []);
  t.deepEqual(
    check.problems.map((p) => p.reason),
    ["no-signature"],
  );
  t.regex(
    check.problems[0]!.message,
    /is not signed: there is no cosign signature tag \(sha256-[0-9a-f]{64}\.sig\)/,
  );
});

test("a signature by a key that is not trusted does not verify (and does with that key)", async (t) => {
  const { registry, cosign, qa, stranger, verify } = bed();
  const digest = await bed().movedTag("team/stranger");
  await cosign.sign(registry.ref(`team/stranger@${digest}`), stranger);
  const check = await verify("team/stranger", digest, [qa.key]);
  t.deepEqual(check.verified, []);
  t.deepEqual(
    check.problems.map((p) => [p.reason, p.format]),
    [["bad-signature", "sig-tag"]],
  );
  t.regex(
    check.problems[0]!.message,
    /no trusted key \(sha256:[0-9a-f]{12}\) verifies the signature: it was made with another key/,
  );
  const trusted = await verify("team/stranger", digest, [qa.key, stranger.key]);
  t.deepEqual(
    trusted.verified.map((v) => v.keyId),
    [stranger.key.id],
  );
});

test("two signers are two verified signatures; the untrusted one is reported beside", async (t) => {
  const { registry, cosign, qa, stranger, verify } = bed();
  const digest = await bed().movedTag("team/two");
  await cosign.sign(registry.ref(`team/two@${digest}`), qa);
  await cosign.sign(registry.ref(`team/two@${digest}`), stranger);
  const both = await verify("team/two", digest, [qa.key, stranger.key]);
  t.deepEqual(both.verified.map((v) => v.keyId).sort(), [qa.key.id, stranger.key.id].sort());
  const qaOnly = await verify("team/two", digest, [qa.key]);
  t.deepEqual(
    qaOnly.verified.map((v) => v.keyId),
    [qa.key.id],
  );
  t.deepEqual(
    qaOnly.problems.map((p) => p.reason),
    ["bad-signature"],
  );
});

test("a payload rewritten after signing (crane push of a new .sig manifest) is refused", async (t) => {
  const { registry, crane, cosign, qa, verify } = bed();
  const digest = await bed().movedTag("team/tampered");
  await cosign.sign(registry.ref(`team/tampered@${digest}`), qa);
  const sigRef = registry.ref(`team/tampered:${digest.replace(":", "-")}.sig`);
  const original = (await crane.manifest(sigRef)).json as any;
  const layer = original.layers[0];
  const payload = JSON.parse(
    await crane.run(["blob", registry.ref(`team/tampered@${layer.digest}`)]),
  );
  payload.critical.identity["docker-reference"] = "evil.example/team/tampered";
  const forged = Buffer.from(JSON.stringify(payload));
  const config = Buffer.from(
    await crane.run(["blob", registry.ref(`team/tampered@${original.config.digest}`)]),
  );
  const manifest = {
    ...original,
    layers: [
      {
        ...layer,
        digest: `sha256:${createHash("sha256").update(forged).digest("hex")}`,
        size: forged.length,
      },
    ],
  };
  await pushRaw(t, crane, sigRef, Buffer.from(JSON.stringify(manifest)), [config, forged]);
  const check = await verify("team/tampered", digest, [qa.key]);
  t.deepEqual(check.verified, []);
  t.deepEqual(
    check.problems.map((p) => p.reason),
    ["bad-signature"],
  );
  t.regex(check.problems[0]!.message, /or its payload was changed after signing/);
});

test("QA's signature of one image copied to another is a digest mismatch", async (t) => {
  const { registry, crane, cosign, qa, verify } = bed();
  const signed = await bed().movedTag("team/copy");
  const other = await bed().movedTag("team/copy");
  await cosign.sign(registry.ref(`team/copy@${signed}`), qa);
  await crane.run([
    "copy",
    registry.ref(`team/copy:${signed.replace(":", "-")}.sig`),
    registry.ref(`team/copy:${other.replace(":", "-")}.sig`),
  ]);
  const check = await verify("team/copy", other, [qa.key]);
  t.deepEqual(check.verified, []);
  t.deepEqual(
    check.problems.map((p) => [p.reason, p.keyId]),
    [["digest-mismatch", qa.key.id]],
  );
  t.regex(check.problems[0]!.message, new RegExp(`signed ${signed}, not ${other}`));
});
