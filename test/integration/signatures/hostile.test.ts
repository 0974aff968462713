import { createHash, generateKeyPairSync, sign } from "node:crypto";
import test, { type ExecutionContext } from "ava";
import { RegistryReader } from "../../../src/registry/registry-reader.ts";
import { preAuthenticationEncoding } from "../../../src/signatures/bundle.ts";
import {
  parsePublicKey,
  SignatureVerifier,
  type SignatureCheck,
} from "../../../src/signatures/index.ts";
import { startScriptedRegistry } from "../../harness/scripted-registry.ts";

// What a registry we do not control may serve as "signatures": every lie ends in a named
// problem (never an exception), in bounded time and bytes. The registry implements the OCI 1.1
// referrers API here, which the testbed's distribution registry does not (see bundle.test.ts).

const digest = `sha256:${"d".repeat(64)}`;
const hex = "d".repeat(64);
const qa = generateKeyPairSync("ec", { namedCurve: "P-256" });
const qaKey = parsePublicKey(qa.publicKey.export({ type: "spki", format: "pem" }) as string);
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json";

interface Served {
  readonly status?: number;
  readonly type?: string;
  readonly body: Buffer;
  /** Stall this long before answering. */
  readonly delayMs?: number;
}

const sha = (body: Buffer) => `sha256:${createHash("sha256").update(body).digest("hex")}`;
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/** A registry serving `paths` (below /v2/app/), 404 elsewhere, and a verifier reading it. */
async function setup(
  t: ExecutionContext,
  paths: Record<string, Served>,
  options: { timeoutMs?: number; recheckMs?: number } = {},
) {
  const registry = await startScriptedRegistry(t);
  registry.handle((req, res) => {
    const served = paths[(req.url ?? "").replace(/^\/v2\/app\//, "")];
    const answer = () => {
      if (served === undefined) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(served.status ?? 200, {
        "content-type": served.type ?? "application/octet-stream",
        "content-length": served.body.length,
      });
      res.end(req.method === "HEAD" ? undefined : served.body);
    };
    if (served?.delayMs === undefined) answer();
    else setTimeout(answer, served.delayMs);
  });
  const reader = new RegistryReader({
    registries: [{ host: registry.host, ca: registry.ca.caPem, allowPrivateAddresses: true }],
  });
  t.teardown(() => reader.close());
  const verifier = new SignatureVerifier({
    reader,
    ...(options.recheckMs !== undefined && { recheckMs: options.recheckMs }),
  });
  const verify = () =>
    verifier.verify({ registry: registry.host, repository: "app" }, digest, [qaKey], {
      deadline: Date.now() + (options.timeoutMs ?? 10_000),
    });
  return { registry, verify };
}

/** A `.sig` manifest whose one layer is `payload`, signed by the QA key. */
function sigTag(payload: Buffer, layer: Partial<{ size: number; digest: string }> = {}) {
  const signature = sign("sha256", payload, qa.privateKey).toString("base64");
  const manifest = json({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: sha(json({})),
      size: 2,
    },
    layers: [
      {
        mediaType: "application/vnd.dev.cosign.simplesigning.v1+json",
        digest: layer.digest ?? sha(payload),
        size: layer.size ?? payload.length,
        annotations: { "dev.cosignproject.cosign/signature": signature },
      },
    ],
  });
  return { [`manifests/sha256-${hex}.sig`]: { type: OCI_MANIFEST, body: manifest } };
}

const simplePayload = json({
  critical: {
    identity: { "docker-reference": "registry.test/app" },
    image: { "docker-manifest-digest": digest },
    type: "cosign container image signature",
  },
  optional: null,
});

/** A bundle referrer of `digest`, listed by the referrers API. */
function bundleReferrer(bundle: Buffer, subject = digest) {
  const manifest = json({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: BUNDLE,
    config: { mediaType: "application/vnd.oci.empty.v1+json", digest: sha(json({})), size: 2 },
    layers: [{ mediaType: BUNDLE, digest: sha(bundle), size: bundle.length }],
    subject: { mediaType: OCI_MANIFEST, digest: subject, size: 100 },
  });
  const index = json({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      {
        mediaType: OCI_MANIFEST,
        artifactType: BUNDLE,
        digest: sha(manifest),
        size: manifest.length,
      },
    ],
  });
  return {
    [`referrers/${digest}`]: { type: OCI_INDEX, body: index },
    [`manifests/${sha(manifest)}`]: { type: OCI_MANIFEST, body: manifest },
    [`blobs/${sha(bundle)}`]: { body: bundle },
  };
}

function dsseBundle(subjectHex = hex): Buffer {
  const statement = json({
    _type: "https://in-toto.io/Statement/v1",
    subject: [{ name: "registry.test/app", digest: { sha256: subjectHex } }],
    predicateType: "https://sigstore.dev/cosign/sign/v1",
    predicate: {},
  });
  const type = "application/vnd.in-toto+json";
  const sig = sign("sha256", preAuthenticationEncoding(type, statement), qa.privateKey);
  return json({
    mediaType: BUNDLE,
    verificationMaterial: { publicKey: { hint: "" } },
    dsseEnvelope: {
      payload: statement.toString("base64"),
      payloadType: type,
      signatures: [{ sig: sig.toString("base64") }],
    },
  });
}

const reasons = (check: SignatureCheck) => check.problems.map((p) => p.reason);

test("an honest .sig tag and an honest referrers API answer both verify", async (t) => {
  const { verify } = await setup(t, {
    ...sigTag(simplePayload),
    [`blobs/${sha(simplePayload)}`]: { body: simplePayload },
    ...bundleReferrer(dsseBundle()),
  });
  const check = await verify();
  t.deepEqual(check.verified.map((v) => v.format).sort(), ["bundle", "sig-tag"]);
  t.deepEqual(check.problems, []);
});

test("a payload blob that is not what its digest says is malformed", async (t) => {
  const { verify } = await setup(t, {
    ...sigTag(simplePayload),
    [`blobs/${sha(simplePayload)}`]: { body: Buffer.from(simplePayload).fill(32, 0, 1) },
  });
  const check = await verify();
  t.deepEqual(reasons(check), ["malformed"]);
  t.regex(check.problems[0]!.message, /digest mismatch/);
});

test("a payload larger than cosign's is refused before it is read", async (t) => {
  const { registry, verify } = await setup(t, {
    ...sigTag(simplePayload, { size: 10 * 1024 * 1024 }),
  });
  const check = await verify();
  t.deepEqual(reasons(check), ["malformed"]);
  t.regex(check.problems[0]!.message, /is 10485760 bytes/);
  t.false(registry.requests.some((r) => r.url.includes("/blobs/")));
});

test("a blob longer than its descriptor says is cut off", async (t) => {
  const long = Buffer.concat([simplePayload, Buffer.alloc(100_000, 32)]);
  const { verify } = await setup(t, {
    ...sigTag(simplePayload),
    [`blobs/${sha(simplePayload)}`]: { body: long },
  });
  const check = await verify();
  t.deepEqual(reasons(check), ["malformed"]);
  t.regex(check.problems[0]!.message, /larger than/);
});

test("manifests, indexes and bundles that are not JSON are malformed or ignored, never thrown", async (t) => {
  const garbage = Buffer.from("\u0000{not json");
  const notJsonSig = await setup(t, {
    [`manifests/sha256-${hex}.sig`]: { type: OCI_MANIFEST, body: garbage },
  });
  t.deepEqual(reasons(await notJsonSig.verify()), ["malformed"]);
  const notJsonIndex = await setup(t, {
    [`referrers/${digest}`]: { type: OCI_INDEX, body: garbage },
  });
  t.deepEqual(reasons(await notJsonIndex.verify()), ["malformed"]);
  const notJsonBundle = await setup(t, bundleReferrer(garbage));
  const check = await notJsonBundle.verify();
  t.deepEqual(reasons(check), ["malformed"]);
  t.regex(check.problems[0]!.message, /is not a sigstore bundle/);
});

test("a bundle referrer attached to another digest is refused", async (t) => {
  const { verify } = await setup(t, bundleReferrer(dsseBundle(), `sha256:${"e".repeat(64)}`));
  const check = await verify();
  t.deepEqual(reasons(check), ["digest-mismatch"]);
  t.regex(check.problems[0]!.message, /is attached to sha256:e{64}, not to/);
});

test("a valid bundle of another image, relisted here, is a digest mismatch", async (t) => {
  const { verify } = await setup(t, bundleReferrer(dsseBundle("e".repeat(64))));
  const check = await verify();
  t.deepEqual(reasons(check), ["digest-mismatch"]);
  t.is(check.problems[0]!.keyId, qaKey.id);
});

test("a registry that stalls past the deadline leaves the signatures unknown, in time", async (t) => {
  const { verify } = await setup(
    t,
    { [`manifests/sha256-${hex}.sig`]: { type: OCI_MANIFEST, body: json({}), delayMs: 30_000 } },
    { timeoutMs: 1_000 },
  );
  const started = Date.now();
  const check = await verify();
  t.true(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  t.true(reasons(check).includes("registry-error"));
  t.deepEqual(check.verified, []);
});

test("an unsigned digest is asked about again after the recheck time", async (t) => {
  const { registry, verify } = await setup(t, {}, { recheckMs: 300 });
  t.deepEqual(reasons(await verify()), ["no-signature"]);
  const asked = registry.requests.length;
  t.deepEqual(reasons(await verify()), ["no-signature"]);
  t.is(registry.requests.length, asked, "within the recheck time, the cache answers");
  await new Promise((resolve) => setTimeout(resolve, 400));
  t.deepEqual(reasons(await verify()), ["no-signature"]);
  t.true(registry.requests.length > asked, "after it, the registry is asked again");
});

test("a digest every trusted key has signed is not asked about again", async (t) => {
  const { registry, verify } = await setup(
    t,
    { ...sigTag(simplePayload), [`blobs/${sha(simplePayload)}`]: { body: simplePayload } },
    { recheckMs: 1 },
  );
  t.is((await verify()).verified.length, 1);
  const asked = registry.requests.length;
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is((await verify()).verified.length, 1);
  t.is(registry.requests.length, asked);
});

test("a .sig manifest larger than any manifest digestpin reads is malformed, not unknown", async (t) => {
  const { verify } = await setup(t, {
    [`manifests/sha256-${hex}.sig`]: {
      type: OCI_MANIFEST,
      body: Buffer.alloc(5 * 1024 * 1024, 32),
    },
  });
  const check = await verify();
  t.deepEqual(reasons(check), ["malformed"]);
  t.regex(
    check.problems[0]!.message,
    /^the cosign signature tag cannot be read: manifest is larger than 4096 KiB/,
  );
});
