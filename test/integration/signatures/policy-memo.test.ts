import { createHash, generateKeyPairSync, sign } from "node:crypto";
import test, { type ExecutionContext } from "ava";
import type { ObjectKey } from "../../../src/kube/index.ts";
import {
  policyFromText,
  type Policy,
  type SignatureObservation,
  type SignatureRule,
} from "../../../src/policy/index.ts";
import { anonymous, type Keychain } from "../../../src/registry/index.ts";
import { PolicySignatures } from "../../../src/webhook/policy-signatures.ts";
import { startScriptedRegistry, type ScriptedRegistry } from "../../harness/scripted-registry.ts";

// The warm path of PolicySignatures: a rule's keys are resolved once per policy object and a
// kept result is answered without I/O, but an edited rule (other keys, a renamed key), a new
// digest, other registries or a rotated Secret are never answered from what was kept.

const SIGNED = `sha256:${"d".repeat(64)}`;
const UNSIGNED = `sha256:${"e".repeat(64)}`;
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const pemOf = (pair: ReturnType<typeof generateKeyPairSync>): string =>
  pair.publicKey.export({ type: "spki", format: "pem" }).toString();
const qa = generateKeyPairSync("ec", { namedCurve: "P-256" });
const stranger = generateKeyPairSync("ec", { namedCurve: "P-256" });
const sha = (body: Buffer) => `sha256:${createHash("sha256").update(body).digest("hex")}`;
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/** The `.sig` manifest and payload of `digest` signed by the QA key, as cosign v2 pushes it. */
function sigTagOf(digest: string): Record<string, { type: string; body: Buffer }> {
  const payload = json({
    critical: {
      identity: { "docker-reference": "registry.test/app" },
      image: { "docker-manifest-digest": digest },
      type: "cosign container image signature",
    },
    optional: null,
  });
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
        digest: sha(payload),
        size: payload.length,
        annotations: {
          "dev.cosignproject.cosign/signature": sign("sha256", payload, qa.privateKey).toString(
            "base64",
          ),
        },
      },
    ],
  });
  return {
    [`manifests/${digest.replace(":", "-")}.sig`]: { type: OCI_MANIFEST, body: manifest },
    [`blobs/${sha(payload)}`]: { type: "application/octet-stream", body: payload },
  };
}

/** A registry holding the QA signature of SIGNED (nothing else), counting its requests. */
async function signedRegistry(t: ExecutionContext): Promise<ScriptedRegistry> {
  const registry = await startScriptedRegistry(t);
  const paths = sigTagOf(SIGNED);
  registry.handle((req, res) => {
    const served = paths[(req.url ?? "").replace(/^\/v2\/app\//, "")];
    if (served === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": served.type, "content-length": served.body.length });
    res.end(req.method === "HEAD" ? undefined : served.body);
  });
  return registry;
}

const indent = (text: string, spaces: number): string[] =>
  text
    .trimEnd()
    .split("\n")
    .map((line) => " ".repeat(spaces) + line);

/** A policy trusting `registry` whose one required rule covers it with `keys` (YAML lines). */
function policyWith(registry: ScriptedRegistry, keys: string[], withCa = true): Policy {
  const lines = [
    "apiVersion: digestpin.dev/v1alpha1",
    "kind: Policy",
    "registries:",
    `  - host: "${registry.host}"`,
    "    allowPrivateAddresses: true",
    ...(withCa ? ["    ca: |", ...indent(registry.ca.caPem, 6)] : []),
    "signatures:",
    `  - images: ["${registry.host}/**"]`,
    "    required: true",
    "    keys:",
    ...keys,
    "",
  ];
  return policyFromText(lines.join("\n"), "policy.yaml");
}

const inlineKey = (name: string, pem: string): string[] => [
  `      - name: ${name}`,
  "        pem: |",
  ...indent(pem, 10),
];

const ruleOf = (policy: Policy): SignatureRule => {
  const rule = policy.settings.signatures?.[0];
  if (rule === undefined) throw new Error("no signatures rule");
  return rule;
};

const signerNames = (observed: SignatureObservation): string[] =>
  "error" in observed ? [`error ${observed.error.code}`] : observed.signers.map((s) => s.keyName);

/** Whether `value` is given at once, not as a promise (no I/O awaited, no microtask). */
function atOnce(value: unknown): boolean {
  return !(value instanceof Promise);
}

function setup(t: ExecutionContext, registry: ScriptedRegistry, policy: () => Policy) {
  const signatures = new PolicySignatures(policy);
  t.teardown(() => signatures.close());
  const name = { registry: registry.host, repository: "app" };
  const verify = (digest: string, rule: SignatureRule, keychain: Keychain = anonymous) =>
    signatures.verify(name, digest, rule.keys, { keychain, deadline: Date.now() + 10_000 });
  return { verify };
}

test("a kept result is answered at once for the same rule, and read again for a new digest", async (t) => {
  const registry = await signedRegistry(t);
  const policy = policyWith(registry, inlineKey("qa", pemOf(qa)));
  const { verify } = setup(t, registry, () => policy);
  const first = await verify(SIGNED, ruleOf(policy));
  t.deepEqual(signerNames(first), ["qa"]);
  const reads = registry.requests.length;
  t.true(reads > 0);

  const again = verify(SIGNED, ruleOf(policy));
  t.true(atOnce(again), "a kept result is given at once: no I/O, no promise");
  t.is(await again, first, "the same observation object: nothing rebuilt");
  t.is(registry.requests.length, reads);

  // Other credentials: kept apart (what one may read says nothing of what another may).
  const credential = { username: "ci", password: "secret" };
  t.deepEqual(signerNames(await verify(SIGNED, ruleOf(policy), () => credential)), ["qa"]);
  const readsAs = registry.requests.length;
  t.true(readsAs > reads, "another credential is read");
  t.true(atOnce(verify(SIGNED, ruleOf(policy), () => credential)));
  t.is(registry.requests.length, readsAs);

  const other = await verify(UNSIGNED, ruleOf(policy));
  t.deepEqual(signerNames(other), []);
  t.true(registry.requests.length > readsAs, "a new digest is read");
  t.is("problems" in other ? other.problems.map((p) => p.reason).join() : "", "no-signature");
});

test("an edited rule is never answered from the result kept for the rule before it", async (t) => {
  const registry = await signedRegistry(t);
  const before = policyWith(registry, inlineKey("qa", pemOf(qa)));
  let policy = before;
  const { verify } = setup(t, registry, () => policy);
  t.deepEqual(signerNames(await verify(SIGNED, ruleOf(before))), ["qa"]);
  const reads = registry.requests.length;

  // Another key: a new key set, read again, and QA's signature does not count for it.
  policy = policyWith(registry, inlineKey("stranger", pemOf(stranger)));
  const edited = await verify(SIGNED, ruleOf(policy));
  t.deepEqual(signerNames(edited), []);
  t.true(registry.requests.length > reads);
  t.true("problems" in edited && edited.problems.length > 0);

  // The same key renamed: the kept check (by key ids) serves, named as the new rule names it.
  const readsNow = registry.requests.length;
  policy = policyWith(registry, inlineKey("release", pemOf(qa)));
  t.deepEqual(signerNames(await verify(SIGNED, ruleOf(policy))), ["release"]);
  t.is(registry.requests.length, readsNow);

  // A key added: a new key set, read again; QA still signed it.
  policy = policyWith(registry, [
    ...inlineKey("qa", pemOf(qa)),
    ...inlineKey("stranger", pemOf(stranger)),
  ]);
  t.deepEqual(signerNames(await verify(SIGNED, ruleOf(policy))), ["qa"]);
  t.true(registry.requests.length > readsNow);

  // The first policy's rule again: its own keys, its own kept result.
  const readsLast = registry.requests.length;
  t.deepEqual(signerNames(await verify(SIGNED, ruleOf(before))), ["qa"]);
  t.is(registry.requests.length, readsLast);
});

test("other registries (another CA) make a new verifier: nothing kept is served", async (t) => {
  const registry = await signedRegistry(t);
  const trusted = policyWith(registry, inlineKey("qa", pemOf(qa)));
  let policy = trusted;
  const { verify } = setup(t, registry, () => policy);
  t.deepEqual(signerNames(await verify(SIGNED, ruleOf(trusted))), ["qa"]);
  // Without the test CA the registry's certificate is not trusted: the signature is unknown.
  policy = policyWith(registry, inlineKey("qa", pemOf(qa)), false);
  const untrusted = await verify(SIGNED, ruleOf(policy));
  t.deepEqual(signerNames(untrusted), []);
  t.true(
    "problems" in untrusted && untrusted.problems.some((p) => p.reason === "registry-error"),
    JSON.stringify(untrusted),
  );
});

test("a key read from a Secret is read on every verification: a rotated key is used at once", async (t) => {
  const registry = await signedRegistry(t);
  let secret: string | undefined = pemOf(stranger);
  const readObjectKey = (ref: ObjectKey): Promise<string | undefined> =>
    Promise.resolve(ref.kind === "Secret" && ref.name === "keys" ? secret : undefined);
  const policy = policyWith(registry, [
    "      - name: qa",
    "        secretRef: { name: keys, key: cosign.pub }",
  ]);
  const signatures = new PolicySignatures(() => policy, { readObjectKey, namespace: "digestpin" });
  t.teardown(() => signatures.close());
  const name = { registry: registry.host, repository: "app" };
  const verify = () =>
    signatures.verify(name, SIGNED, ruleOf(policy).keys, {
      keychain: anonymous,
      deadline: Date.now() + 10_000,
    });
  t.deepEqual(signerNames(await verify()), []);
  secret = pemOf(qa);
  t.deepEqual(signerNames(await verify()), ["qa"]);
  secret = undefined;
  t.deepEqual(signerNames(await verify()), ["error ERR_SIGNATURE_KEY"]);
});
