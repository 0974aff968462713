import test from "ava";
import { parse } from "yaml";
import { createHash } from "node:crypto";
import { createCosign, pushRaw, type Cosign, type CosignKeyPair } from "../harness/cosign.ts";
import { podManifest, tryCreate } from "../harness/e2e-objects.ts";
import { PIN_STORE_SHARD, sharedE2e, SYSTEM_NAMESPACE, type E2e } from "../harness/e2e-suite.ts";
import { putConfigMap } from "../harness/kube-configmaps.ts";
import { waitFor } from "../harness/wait.ts";

// Issue 22: a QA signature (the real cosign, `cosign sign --key`) on a moved tag's new digest
// approves it: new Pods are admitted at the new digest and the pin moves, its history naming
// the signer. Unsigned, or signed by a key that is not trusted: denied as drift, saying why.
// Under a required-signature rule an unsigned digest is denied and a signed one admitted.
// cosign v2 signs into the `.sig` tag, cosign v3 attaches a sigstore bundle as a referrer.
const e2e = sharedE2e(test, { name: "signatures" });

const TOOLS = ["cosign", "cosign3"] as const;
const sha256 = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

interface Signing {
  readonly cosign: Cosign;
  readonly qa: CosignKeyPair;
  readonly stranger: CosignKeyPair;
}

let signing: Promise<Map<string, Signing>> | undefined;

/** Both cosign builds, each with a QA and a stranger key pair, and the policy trusting QA's. */
function setUp(env: E2e): Promise<Map<string, Signing>> {
  signing ??= (async () => {
    const tools = new Map<string, Signing>();
    for (const tool of TOOLS) {
      const cosign = await createCosign(env.suite, env.crane, tool);
      const [qa, stranger] = await Promise.all([
        cosign.generateKeyPair(),
        cosign.generateKeyPair(),
      ]);
      tools.set(tool, { cosign, qa, stranger });
    }
    const host = env.registry.host;
    // QA's v2 key also kept in a ConfigMap in digestpin's namespace (configMapRef).
    await putConfigMap(env.cluster.kubeConfig, SYSTEM_NAMESPACE, "cosign-keys", {
      "qa.pub": tools.get("cosign")!.qa.publicKeyPem,
    });
    const refRules = [
      {
        images: [`${host}/keyref/**`],
        keys: [{ name: "qa", configMapRef: { name: "cosign-keys", key: "qa.pub" } }],
        required: true,
      },
      {
        images: [`${host}/nokey/**`],
        keys: [{ name: "qa", secretRef: { name: "missing-keys", key: "qa.pub" } }],
        required: true,
      },
    ];
    const rules = TOOLS.flatMap((tool) => {
      const keys = [{ name: "qa", pem: tools.get(tool)!.qa.publicKeyPem }];
      return [
        { images: [`${host}/${tool}/secure/**`], keys, required: true },
        { images: [`${host}/${tool}/**`], keys },
      ];
    });
    await env.setPolicy(
      env.policy({
        unpinned: "trust-on-first-use",
        signatures: [...refRules, ...rules],
        approvals: { signedBy: ["qa"], minSigners: 1 },
      }),
    );
    return tools;
  })();
  return signing;
}

interface StoredPin {
  digest: string;
  pinnedBy?: string;
  reason?: string;
  history?: { digest: string; replacedBy?: string; replaceReason?: string }[];
}

async function storedPin(env: E2e, key: string): Promise<StoredPin | undefined> {
  const shard = await env.core
    .readNamespacedConfigMap({ name: PIN_STORE_SHARD, namespace: SYSTEM_NAMESPACE })
    .catch(() => undefined);
  const document = parse(shard?.data?.["pins.yaml"] ?? "{}") as {
    pins?: Record<string, StoredPin>;
  };
  return document.pins?.[key];
}

/** A tag pinned on first use by a Pod, then re-pushed: the pinned and the new digest. */
async function pinnedAndMoved(
  env: E2e,
  namespace: string,
  ref: string,
): Promise<{ pinned: string; current: string }> {
  const pushed = await env.crane.pushRandomImage(ref);
  const first = await tryCreate(
    env.objects,
    podManifest("first", namespace, { containers: { app: ref } }),
  );
  if (!first.allowed) throw new Error(`first Pod denied: ${first.message}`);
  // In force once another digest of the tag is refused as contradicting the pin.
  const other = `${ref}@sha256:${"0".repeat(64)}`;
  await waitFor("the pin to be in force", async () => {
    const probe = podManifest("probe", namespace, { containers: { app: other } });
    return (await tryCreate(env.objects, probe, { dryRun: true })).allowed ? undefined : true;
  });
  const moved = await env.crane.repush(ref);
  return { pinned: pushed.digest, current: moved.digest };
}

for (const tool of TOOLS) {
  const format = tool === "cosign" ? "v2 .sig tag" : "v3 bundle referrer";

  test.serial(
    `${tool}: QA signs the moved tag's new digest → admitted there, the pin moves naming QA (${format})`,
    async (t) => {
      const env = e2e();
      const { cosign, qa } = (await setUp(env)).get(tool)!;
      const namespace = await env.namespace(t);
      const ref = env.registry.ref(`${tool}/shop/web:1.0`);
      const { pinned, current } = await pinnedAndMoved(env, namespace, ref);

      // Not signed yet: drift, denied, and the denial says no approver signed.
      const unsigned = await tryCreate(
        env.objects,
        podManifest("unsigned", namespace, { containers: { app: ref } }),
      );
      t.false(unsigned.allowed);
      if (!unsigned.allowed) {
        t.log(unsigned.message);
        t.true(unsigned.message.includes(`the tag moved. ${ref} is pinned to ${pinned}`));
        t.true(
          unsigned.message.includes(
            `No approval by signature: ${current} is not signed by an approver key`,
          ),
          unsigned.message,
        );
      }

      await cosign.sign(`${ref.slice(0, ref.lastIndexOf(":"))}@${current}`, qa);
      // An unsigned result is kept 10 s at most: QA's signature is seen within that.
      let attempt = 0;
      const denials: string[] = [];
      const admitted = await waitFor(
        "the QA-signed digest to be admitted",
        async () => {
          const created = await tryCreate(
            env.objects,
            podManifest(`signed-${++attempt}`, namespace, { containers: { app: ref } }),
          );
          if (!created.allowed) denials.push(created.message);
          return created.allowed ? created : undefined;
        },
        20_000,
        500,
      );
      // Until then only "not signed yet"; never the validating pass refusing the moved digest.
      t.deepEqual(
        denials.filter((message) => !message.includes("No approval by signature")),
        [],
      );
      t.is(admitted.object.spec.containers[0].image, `${ref}@${current}`);
      t.log(`admitted: ${admitted.object.spec.containers[0].image}`);

      const pin = await storedPin(env, ref);
      t.log(JSON.stringify(pin));
      t.is(pin?.digest, current);
      t.regex(pin?.pinnedBy ?? "", /^signature qa \(sha256:[0-9a-f]{12}\)$/);
      t.is(pin?.history?.[0]?.digest, pinned);
      t.is(pin?.history?.[0]?.replacedBy, pin?.pinnedBy);
      t.regex(
        pin?.history?.[0]?.replaceReason ?? "",
        new RegExp(`^signed ${current}: signature sha256:[0-9a-f]{64} \\((sig-tag|bundle)\\)$`),
      );
      t.true(
        pin?.history?.[0]?.replaceReason?.endsWith(tool === "cosign" ? "(sig-tag)" : "(bundle)"),
      );

      // The moved pin is in force: the next Pod is admitted at it without asking signatures again.
      await waitFor("the moved pin to be in force", async () => {
        const next = await tryCreate(
          env.objects,
          podManifest(`next-${++attempt}`, namespace, { containers: { app: ref } }),
        );
        return next.allowed && next.object.spec.containers[0].image === `${ref}@${current}`
          ? true
          : undefined;
      });
    },
  );

  test.serial(
    `${tool}: a signature by a key that is not trusted → denied as drift, naming why`,
    async (t) => {
      const env = e2e();
      const { cosign, stranger } = (await setUp(env)).get(tool)!;
      const namespace = await env.namespace(t);
      const ref = env.registry.ref(`${tool}/shop/api:2.0`);
      const { pinned, current } = await pinnedAndMoved(env, namespace, ref);
      await cosign.sign(`${ref.slice(0, ref.lastIndexOf(":"))}@${current}`, stranger);

      const created = await tryCreate(
        env.objects,
        podManifest("stranger", namespace, { containers: { app: ref } }),
      );
      t.false(created.allowed);
      if (!created.allowed) {
        t.log(created.message);
        t.true(created.message.includes(`${ref} is pinned to ${pinned}`), created.message);
        t.true(
          created.message.includes(
            `No approval by signature: a signature of ${current} does not count:`,
          ),
          created.message,
        );
        // v3 bundles name the key that signed (not trusted); a v2 signature verifies with no trusted key.
        t.regex(
          created.message,
          tool === "cosign"
            ? /no trusted key \(sha256:[0-9a-f]{12}\) verifies the signature/
            : /signed with key sha256:[0-9a-f]{12}, which is not trusted/,
        );
      }
      t.is((await storedPin(env, ref))?.digest, pinned);
    },
  );

  test.serial(
    `${tool}: required signatures: an unsigned digest is denied, a signed one admitted`,
    async (t) => {
      const env = e2e();
      const { cosign, qa } = (await setUp(env)).get(tool)!;
      const namespace = await env.namespace(t);
      const ref = env.registry.ref(`${tool}/secure/db:3.0`);
      const pushed = await env.crane.pushRandomImage(ref);

      const unsigned = await tryCreate(
        env.objects,
        podManifest("unsigned", namespace, { containers: { app: ref } }),
      );
      t.false(unsigned.allowed);
      if (!unsigned.allowed) {
        t.log(unsigned.message);
        t.true(
          unsigned.message.includes(
            `${pushed.digest} is not signed, and the policy requires a signature by qa (sha256:`,
          ),
          unsigned.message,
        );
        t.true(unsigned.message.includes("cosign sign --key"), unsigned.message);
      }
      // Nothing was pinned on first use for an image that was denied.
      t.is(await storedPin(env, ref), undefined);

      await cosign.sign(`${ref.slice(0, ref.lastIndexOf(":"))}@${pushed.digest}`, qa);
      let attempt = 0;
      const admitted = await waitFor(
        "the signed digest to be admitted",
        async () => {
          const created = await tryCreate(
            env.objects,
            podManifest(`signed-${++attempt}`, namespace, { containers: { app: ref } }),
          );
          return created.allowed ? created : undefined;
        },
        20_000,
        500,
      );
      t.is(admitted.object.spec.containers[0].image, `${ref}@${pushed.digest}`);
    },
  );
}

test.serial(
  "cosign3: a bundle whose statement was changed after QA signed it → denied, naming QA's key and the change",
  async (t) => {
    const env = e2e();
    const { cosign, qa } = (await setUp(env)).get("cosign3")!;
    const { registry, crane } = env;
    const namespace = await env.namespace(t);
    const repository = "cosign3/secure/cache";
    const ref = registry.ref(`${repository}:4.0`);
    const { digest } = await crane.pushRandomImage(ref);
    await cosign.sign(registry.ref(`${repository}@${digest}`), qa);

    // Rewrite the statement inside QA's bundle and list only the forged referrer.
    const fallback = registry.ref(`${repository}:${digest.replace(":", "-")}`);
    const index = (await crane.manifest(fallback)).json as any;
    const manifest = (
      await crane.manifest(registry.ref(`${repository}@${index.manifests[0].digest}`))
    ).json as any;
    const bundle = JSON.parse(
      await crane.run(["blob", registry.ref(`${repository}@${manifest.layers[0].digest}`)]),
    );
    const statement = JSON.parse(
      Buffer.from(bundle.dsseEnvelope.payload, "base64").toString("utf8"),
    );
    statement.subject[0].name = "evil.example/secure/cache";
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString("base64");
    const forged = Buffer.from(JSON.stringify(bundle));
    const empty = Buffer.from(
      await crane.run(["blob", registry.ref(`${repository}@${manifest.config.digest}`)]),
    );
    const referrer = Buffer.from(
      JSON.stringify({
        ...manifest,
        layers: [{ ...manifest.layers[0], digest: sha256(forged), size: forged.length }],
      }),
    );
    const forgedDigest = await pushRaw(
      env.suite,
      crane,
      registry.ref(`${repository}@${sha256(referrer)}`),
      referrer,
      [empty, forged],
    );
    const listed = [{ ...index.manifests[0], digest: forgedDigest, size: referrer.length }];
    await crane.run(
      ["edit", "manifest", fallback],
      JSON.stringify({ ...index, manifests: listed }),
    );

    const created = await tryCreate(
      env.objects,
      podManifest("forged", namespace, { containers: { app: ref } }),
    );
    t.false(created.allowed);
    if (!created.allowed) {
      t.log(created.message);
      t.regex(
        created.message,
        new RegExp(
          `${digest} has no valid signature by qa \\(sha256:[0-9a-f]{12}\\): the bundle names trusted key sha256:[0-9a-f]{12}, but its signature does not verify: the payload or the signature was changed after signing\\. Sign it`,
        ),
      );
    }
  },
);

test.serial(
  "a key in a ConfigMap (configMapRef) verifies; a key in a Secret that does not exist denies, saying how to create it",
  async (t) => {
    const env = e2e();
    const { cosign, qa } = (await setUp(env)).get("cosign")!;
    const namespace = await env.namespace(t);
    const ref = env.registry.ref("keyref/app:1.0");
    const { digest } = await env.crane.pushRandomImage(ref);
    const unsigned = await tryCreate(
      env.objects,
      podManifest("unsigned", namespace, { containers: { app: ref } }),
    );
    t.false(unsigned.allowed);
    if (!unsigned.allowed) {
      t.log(unsigned.message);
      t.true(
        unsigned.message.includes(
          `${digest} is not signed, and the policy requires a signature by qa (configmap cosign-keys/qa.pub)`,
        ),
        unsigned.message,
      );
    }
    await cosign.sign(env.registry.ref(`keyref/app@${digest}`), qa);
    let attempt = 0;
    const admitted = await waitFor(
      "the signed digest to be admitted",
      async () => {
        const created = await tryCreate(
          env.objects,
          podManifest(`signed-${++attempt}`, namespace, { containers: { app: ref } }),
        );
        return created.allowed ? created : undefined;
      },
      20_000,
      500,
    );
    t.is(admitted.object.spec.containers[0].image, `${ref}@${digest}`);

    const noKey = env.registry.ref("nokey/app:1.0");
    await env.crane.pushRandomImage(noKey);
    const denied = await tryCreate(
      env.objects,
      podManifest("nokey", namespace, { containers: { app: noKey } }),
    );
    t.false(denied.allowed);
    if (!denied.allowed) {
      t.log(denied.message);
      t.true(
        denied.message.includes(
          `ERR_SIGNATURE_KEY: key qa (secret ${SYSTEM_NAMESPACE}/missing-keys, key qa.pub) does not exist; create it with the cosign.pub: kubectl -n ${SYSTEM_NAMESPACE} create secret generic missing-keys --from-file=qa.pub=cosign.pub`,
        ),
        denied.message,
      );
    }
  },
);
