import { createHash } from "node:crypto";
import test from "ava";
import { pushRaw } from "../../harness/cosign.ts";
import { shortKeyId } from "../../../src/signatures/index.ts";
import { httpsRequest } from "../../harness/testbed.ts";
import { signaturesTestbed } from "./testbed.ts";

// cosign v3 signs into a sigstore bundle (DSSE envelope over an in-toto statement) attached as an
// OCI 1.1 referrer. The testbed's distribution registry has no referrers API, so cosign lists the
// referrer in the fallback tag `sha256-<hex>`, and digestpin finds it there.

const bed = signaturesTestbed(test, "cosign3");
const BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json";
const sha256 = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** The referrer cosign wrote for `digest`: its manifest, and the bundle it carries. */
async function referrerOf(repository: string, digest: string) {
  const { registry, crane } = bed();
  const index = (await crane.manifest(registry.ref(`${repository}:${digest.replace(":", "-")}`)))
    .json as any;
  const entry = index.manifests[0];
  const manifest = (await crane.manifest(registry.ref(`${repository}@${entry.digest}`)))
    .json as any;
  const bundle = JSON.parse(
    await crane.run(["blob", registry.ref(`${repository}@${manifest.layers[0].digest}`)]),
  );
  return { index, entry, manifest, bundle };
}

test("QA's cosign v3 sign --key is a bundle referrer in the fallback tag, and verifies", async (t) => {
  const { registry, cosign, qa, verify } = bed();
  const digest = await bed().movedTag("team/app");
  await cosign.sign(registry.ref(`team/app@${digest}`), qa);
  const api = await httpsRequest(`${registry.url}/v2/team/app/referrers/${digest}`, {
    ca: registry.caPem,
  });
  t.is(api.status, 404, "distribution v3.1.2 has no referrers API");
  const { index, entry, manifest, bundle } = await referrerOf("team/app", digest);
  t.is(index.mediaType, "application/vnd.oci.image.index.v1+json");
  t.is(entry.artifactType, BUNDLE);
  t.is(manifest.subject.digest, digest);
  t.is(bundle.mediaType, BUNDLE);
  const check = await verify("team/app", digest, [qa.key]);
  t.deepEqual(check.problems, []);
  t.deepEqual(check.verified, [
    {
      keyId: qa.key.id,
      signatureDigest: sha256(Buffer.from(bundle.dsseEnvelope.signatures[0].sig, "base64")),
      format: "bundle",
      manifestDigest: entry.digest,
      identity: undefined,
    },
  ]);
});

test("a bundle by a key that is not trusted names that key as unknown", async (t) => {
  const { registry, cosign, qa, stranger, verify } = bed();
  const digest = await bed().movedTag("team/stranger");
  await cosign.sign(registry.ref(`team/stranger@${digest}`), stranger);
  const check = await verify("team/stranger", digest, [qa.key]);
  t.deepEqual(check.verified, []);
  t.deepEqual(
    check.problems.map((p) => [p.reason, p.format]),
    [["unknown-key", "bundle"]],
  );
  t.is(
    check.problems[0]!.message,
    `signed with key ${shortKeyId(stranger.key.id)}, which is not trusted (trusted: ${shortKeyId(qa.key.id)})`,
  );
  const trusted = await verify("team/stranger", digest, [qa.key, stranger.key]);
  t.deepEqual(
    trusted.verified.map((v) => v.keyId),
    [stranger.key.id],
  );
});

test("a bundle whose statement was rewritten after signing names QA's key and is refused", async (t) => {
  const { registry, crane, cosign, qa, verify } = bed();
  const digest = await bed().movedTag("team/tampered");
  await cosign.sign(registry.ref(`team/tampered@${digest}`), qa);
  const { index, manifest, bundle } = await referrerOf("team/tampered", digest);
  const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, "base64").toString("utf8"));
  statement.subject[0].name = "evil.example/team/tampered";
  bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString("base64");
  const forged = Buffer.from(JSON.stringify(bundle));
  const empty = Buffer.from(
    await crane.run(["blob", registry.ref(`team/tampered@${manifest.config.digest}`)]),
  );
  const referrer = Buffer.from(
    JSON.stringify({
      ...manifest,
      layers: [{ ...manifest.layers[0], digest: sha256(forged), size: forged.length }],
    }),
  );
  const forgedDigest = await pushRaw(
    t,
    crane,
    registry.ref(`team/tampered@${sha256(referrer)}`),
    referrer,
    [empty, forged],
  );
  // Only the forged referrer stays listed (crane push added it beside cosign's).
  const listed = [{ ...index.manifests[0], digest: forgedDigest, size: referrer.length }];
  await crane.run(
    ["edit", "manifest", registry.ref(`team/tampered:${digest.replace(":", "-")}`)],
    JSON.stringify({ ...index, manifests: listed }),
  );
  t.deepEqual(
    (await referrerOf("team/tampered", digest)).index.manifests.map((m: any) => m.digest as string),
    [forgedDigest],
  );
  const check = await verify("team/tampered", digest, [qa.key]);
  t.deepEqual(check.verified, []);
  t.deepEqual(
    check.problems.map((p) => [p.reason, p.keyId]),
    [["bad-signature", qa.key.id]],
  );
  t.regex(
    check.problems[0]!.message,
    /names trusted key sha256:[0-9a-f]{12}, but its signature does not verify/,
  );
});

test("QA's bundle of one image attached to another is a digest mismatch", async (t) => {
  const { registry, crane, cosign, qa, verify } = bed();
  const signed = await bed().movedTag("team/copy");
  const other = await bed().movedTag("team/copy");
  await cosign.sign(registry.ref(`team/copy@${signed}`), qa);
  const { manifest, bundle } = await referrerOf("team/copy", signed);
  const blob = Buffer.from(JSON.stringify(bundle));
  const empty = Buffer.from(
    await crane.run(["blob", registry.ref(`team/copy@${manifest.config.digest}`)]),
  );
  const otherSize = (await crane.manifest(registry.ref(`team/copy@${other}`))).raw.length;
  const referrer = Buffer.from(
    JSON.stringify({
      ...manifest,
      layers: [{ ...manifest.layers[0], digest: sha256(blob), size: blob.length }],
      subject: { ...manifest.subject, digest: other, size: otherSize },
    }),
  );
  await pushRaw(t, crane, registry.ref(`team/copy@${sha256(referrer)}`), referrer, [empty, blob]);
  const check = await verify("team/copy", other, [qa.key]);
  t.deepEqual(check.verified, []);
  t.deepEqual(
    check.problems.map((p) => [p.reason, p.keyId]),
    [["digest-mismatch", qa.key.id]],
  );
  t.regex(check.problems[0]!.message, new RegExp(`signed ${signed}, not ${other}`));
});
