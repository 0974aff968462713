import { createHash, generateKeyPairSync } from "node:crypto";
import test from "ava";
import {
  applySignatureFacts,
  type VerifySignaturesFn,
} from "../../../src/admission/signature-facts.ts";
import { checkPolicyDocument } from "../../../src/policy/document/document.ts";
import {
  decideWith,
  type Decision,
  type Policy,
  type SignatureObservation,
} from "../../../src/policy/index.ts";
import { parsePublicKey } from "../../../src/signatures/index.ts";
import { digest, HEADER, policyOf } from "./fixtures.ts";

// `signatures` and `approvals`: read with line-numbered issues, and decided from the
// verification outcome (a fact gathered at admission, here given as it would be).

const [OLD, NEW, SIG] = ["a", "b", "c"].map(digest) as [string, string, string];

const spki = (key: ReturnType<typeof generateKeyPairSync>["publicKey"]): string =>
  key.export({ type: "spki", format: "pem" }).toString();
const qa = generateKeyPairSync("ec", { namedCurve: "P-256" });
const lead = generateKeyPairSync("ec", { namedCurve: "P-384" });
const QA_PEM = spki(qa.publicKey);
const LEAD_PEM = spki(lead.publicKey);
const QA_ID = `sha256:${createHash("sha256")
  .update(qa.publicKey.export({ type: "spki", format: "der" }))
  .digest("hex")}`;

const indent = (pem: string, spaces: number): string =>
  pem
    .trim()
    .split("\n")
    .map((line) => " ".repeat(spaces) + line)
    .join("\n");

function signaturesYaml(options: { required?: boolean; approvals?: string } = {}): string {
  return `unpinned: trust-on-first-use
signatures:
  - images: ["ghcr.io/acme/**"]
    required: ${options.required ?? false}
    keys:
      - name: qa
        pem: |
${indent(QA_PEM, 10)}
      - name: lead
        pem: |
${indent(LEAD_PEM, 10)}
${options.approvals ?? "approvals:\n  signedBy: [qa]\n"}pins:
  ghcr.io/acme/app:1:
    digest: ${OLD}
    pinnedBy: alice
`;
}

function issuesOf(body: string): string[] {
  const result = checkPolicyDocument(HEADER + body, "policy.yaml");
  return result.ok ? [] : result.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`);
}

test("signatures and approvals are read: keys parsed at load, with the id cosign hints", (t) => {
  const policy = policyOf(
    signaturesYaml({ approvals: "approvals:\n  signedBy: [qa, lead]\n  minSigners: 2\n" }),
  );
  const [rule] = policy.settings.signatures ?? [];
  t.deepEqual(rule?.images, ["ghcr.io/acme/**"]);
  t.false(rule?.required);
  t.deepEqual(
    rule?.keys.map((k) => [k.name, k.id]),
    [
      ["qa", QA_ID],
      ["lead", parsePublicKey(LEAD_PEM).id],
    ],
  );
  t.is(rule?.keys[0]?.id, parsePublicKey(QA_PEM).id, "the same id as the signatures part");
  t.deepEqual(policy.settings.approvals, { signedBy: ["qa", "lead"], minSigners: 2 });
  t.is(policyOf("").settings.signatures, undefined);
  t.is(policyOf("").settings.approvals, undefined);
});

test("a key digestpin cannot verify with is an issue at its line", (t) => {
  const rsaSmall = spki(generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey);
  const ed = spki(generateKeyPairSync("ed25519").publicKey);
  const privatePem = qa.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const body = (pem: string) =>
    `signatures:\n  - images: ["ghcr.io/acme/**"]\n    keys:\n      - name: k\n        pem: |\n${indent(pem, 10)}\n`;
  t.deepEqual(issuesOf(body("not a key")), [
    `7:14 signatures[0].keys[0].pem: key "k": not a PEM public key (-----BEGIN PUBLIC KEY-----); give the cosign.pub that cosign generate-key-pair wrote`,
  ]);
  t.regex(
    issuesOf(body(privatePem))[0] ?? "",
    /^7:14 .*key "k": a private key \(PRIVATE KEY\); give its public half/,
  );
  t.regex(issuesOf(body(rsaSmall))[0] ?? "", /an RSA key of 1024 bits; digestpin verifies/);
  t.regex(issuesOf(body(ed))[0] ?? "", /a ed25519 key; digestpin verifies ECDSA P-256/);
  const broken = QA_PEM.replace(/\n[A-Za-z0-9+/]{8}/, "\n!!!!!!!!");
  t.regex(issuesOf(body(broken))[0] ?? "", /cannot be read as a public key/);
});

test("rules and approvals that cannot work are issues with their paths", (t) => {
  t.deepEqual(issuesOf(`signatures:\n  - images: [app]\n    keys: []\n`), [
    `4:14 signatures[0].images[0]: "app" never matches: patterns match the canonical reference, which starts with the registry; write "docker.io/library/app"`,
  ]);
  t.deepEqual(issuesOf(`signatures:\n  - images: ["ghcr.io/**"]\n`), [
    "4:5 signatures[0].keys: a rule needs at least one key",
  ]);
  t.deepEqual(
    issuesOf(
      signaturesYaml({ approvals: "approvals:\n  signedBy: [qa, ops]\n  minSigners: 3\n" }),
    ).map((i) => i.replace(/^\d+:\d+ /, "")),
    [
      'approvals.signedBy[1]: "ops" is not the name of a key in signatures (keys: qa, lead)',
      "approvals.minSigners: expected a whole number from 1 to 1 (the number of signedBy keys)",
    ],
  );
  const twice = signaturesYaml().replace("name: lead", "name: qa");
  t.regex(
    issuesOf(twice).join("\n"),
    /signatures\[0\]\.keys\[1\]: the key name "qa" is used twice/,
  );
  t.regex(
    issuesOf('signatures:\n  - images: ["ghcr.io/**"]\n    keys: []\n    requird: true\n').join(
      "\n",
    ),
    /unknown key "requird" \(did you mean "required"\?\)/,
  );
});

const context = {
  namespace: "team",
  dryRun: false,
  deadline: Date.now() + 5000,
  keychain: () => Promise.resolve(() => undefined),
};

function judge(
  policy: Policy,
  image: string,
  served: string,
  observations: Readonly<Record<string, SignatureObservation>>,
  options: { dryRun?: boolean; controlled?: boolean } = {},
): Promise<{ decision: Decision; asked: string[] }> {
  const asked: string[] = [];
  const verify: VerifySignaturesFn = (name, d, keys) => {
    asked.push(`${name.repository}@${d} [${keys.map((k) => k.name).join(",")}]`);
    return Promise.resolve(
      observations[d] ?? {
        signers: [],
        problems: [{ reason: "no-signature", message: `${d} is not signed` }],
      },
    );
  };
  const ctx = {
    ...context,
    dryRun: options.dryRun ?? false,
    controlled: options.controlled ?? false,
  };
  return Promise.resolve(
    decideWith(image, ctx, policy, () => Promise.resolve({ digest: served })),
  ).then(async (decided) => ({
    decision: await applySignatureFacts(decided, policy, verify, ctx),
    asked,
  }));
}

const signedByQa: SignatureObservation = {
  signers: [{ keyName: "qa", keyId: QA_ID, signatureDigest: SIG, format: "sig-tag" }],
  problems: [],
};

test("a moved tag signed by an approver key is admitted at the new digest and the pin moves", async (t) => {
  const { decision, asked } = await judge(policyOf(signaturesYaml()), "ghcr.io/acme/app:1", NEW, {
    [NEW]: signedByQa,
  });
  t.deepEqual(asked, [`acme/app@${NEW} [qa,lead]`]);
  t.is(decision.action, "mutate");
  t.is(decision.reason, "signature-approved");
  if (decision.action !== "mutate") return;
  t.is(decision.image, `ghcr.io/acme/app:1@${NEW}`);
  const label = `signature qa (${QA_ID.slice(0, 19)})`;
  t.deepEqual(decision.move, {
    key: "ghcr.io/acme/app:1",
    from: OLD,
    digest: NEW,
    pinnedBy: label,
    reason: `signed ${NEW}: signature ${SIG} (sig-tag)`,
  });
  t.is(decision.drift, undefined, "an approved move is no drift to report");
  t.regex(decision.warning ?? "", /approved by signature of qa, pin moved/);
});

test("a dry run admits at the new digest and moves nothing", async (t) => {
  const { decision } = await judge(
    policyOf(signaturesYaml()),
    "ghcr.io/acme/app:1",
    NEW,
    { [NEW]: signedByQa },
    { dryRun: true },
  );
  t.is(decision.action, "mutate");
  if (decision.action === "mutate") {
    t.is(decision.move, undefined);
    t.regex(decision.message, /^dry run: .*would move the pin/);
  }
});

test("without an approver's signature drift is decided as before, the message saying why", async (t) => {
  const policy = policyOf(signaturesYaml());
  const unsigned = await judge(policy, "ghcr.io/acme/app:1", NEW, {});
  t.is(unsigned.decision.action, "deny");
  t.is(unsigned.decision.reason, "drift");
  t.regex(
    unsigned.decision.message,
    new RegExp(
      `No approval by signature: ${NEW} is not signed by an approver key \\(approvers qa \\(sha256:[0-9a-f]{12}\\): none has signed, 1 needed\\)`,
    ),
  );
  t.regex(
    unsigned.decision.message,
    /cosign sign --key <approver key> ghcr\.io\/acme\/app@sha256:b{64}/,
  );

  // lead's key is trusted by the rule but is no approver.
  const byLead = await judge(policy, "ghcr.io/acme/app:1", NEW, {
    [NEW]: {
      signers: [{ keyName: "lead", keyId: "sha256:1", signatureDigest: SIG, format: "bundle" }],
      problems: [],
    },
  });
  t.is(byLead.decision.action, "deny");

  const tampered = await judge(policy, "ghcr.io/acme/app:1", NEW, {
    [NEW]: {
      signers: [],
      problems: [
        {
          reason: "bad-signature",
          message:
            "the bundle names trusted key sha256:0123, but its signature does not verify: the payload or the signature was changed after signing",
        },
      ],
    },
  });
  t.regex(
    tampered.decision.message,
    /a signature of sha256:b{64} does not count: the bundle names trusted key .* changed after signing/,
  );

  // controllerPods: use-pin still admits a controller's Pod at the pin.
  const controlled = await judge(policy, "ghcr.io/acme/app:1", NEW, {}, { controlled: true });
  t.is(controlled.decision.action, "mutate");
  if (controlled.decision.action === "mutate") {
    t.is(controlled.decision.digest, OLD);
    t.is(controlled.decision.move, undefined);
  }
});

test("minSigners counts distinct approver keys", async (t) => {
  const policy = policyOf(
    signaturesYaml({ approvals: "approvals:\n  signedBy: [qa, lead]\n  minSigners: 2\n" }),
  );
  const one = await judge(policy, "ghcr.io/acme/app:1", NEW, { [NEW]: signedByQa });
  t.is(one.decision.action, "deny");
  t.regex(one.decision.message, /only qa signed, 2 needed/);
  const both = await judge(policy, "ghcr.io/acme/app:1", NEW, {
    [NEW]: {
      signers: [
        ...signedByQa.signers,
        { keyName: "lead", keyId: "sha256:2", signatureDigest: digest("d"), format: "bundle" },
      ],
      problems: [],
    },
  });
  t.is(both.decision.reason, "signature-approved");
  if (both.decision.action === "mutate")
    t.regex(both.decision.move?.pinnedBy ?? "", /^signature qa \(.*\), signature lead \(/);
});

test("a required rule denies an unsigned or invalidly signed digest and admits a signed one", async (t) => {
  const policy = policyOf(signaturesYaml({ required: true }));
  const pinned = await judge(policy, "ghcr.io/acme/app:1", OLD, {});
  t.is(pinned.decision.action, "deny");
  t.is(pinned.decision.reason, "unsigned");
  t.regex(
    pinned.decision.message,
    new RegExp(
      `^image "ghcr.io/acme/app:1": ${OLD} is not signed, and the policy requires a signature by qa \\(sha256:[0-9a-f]{12}\\), lead \\(sha256:[0-9a-f]{12}\\)\\. Sign it with a trusted key \\(cosign sign --key <key> ghcr.io/acme/app@${OLD}\\)`,
    ),
  );

  const unknown = await judge(policy, "ghcr.io/acme/app:1", OLD, {
    [OLD]: {
      signers: [],
      problems: [
        { reason: "unknown-key", message: "signed with key sha256:9999, which is not trusted" },
      ],
    },
  });
  t.is(unknown.decision.reason, "signature-invalid");
  t.regex(
    unknown.decision.message,
    /has no valid signature by qa .*: signed with key sha256:9999, which is not trusted\. Sign it/,
  );

  const signed = await judge(policy, "ghcr.io/acme/app:1", OLD, { [OLD]: signedByQa });
  t.is(signed.decision.action, "mutate");
  t.regex(signed.decision.message, /is signed by qa$/);

  // An unpinned image (trust-on-first-use) that is not signed is denied and records nothing.
  const first = await judge(policy, "ghcr.io/acme/new:1", NEW, {});
  t.is(first.decision.action, "deny");

  // mode: warn admits, with the warning of what enforce would deny.
  const warn = await judge(
    policyOf(`mode: warn\n${signaturesYaml({ required: true })}`),
    "ghcr.io/acme/app:1",
    OLD,
    {},
  );
  t.is(warn.decision.action, "mutate");
  t.true(warn.decision.wouldDeny);
  t.regex(warn.decision.warning ?? "", /would deny .*not signed by qa or lead \(mode: warn\)/);
});

test("signatures are read only for images a rule covers, and once per digest", async (t) => {
  const policy = policyOf(
    `${signaturesYaml({ required: true })}  docker.io/library/busybox:1: ${OLD}\n`,
  );
  const other = await judge(policy, "busybox:1", OLD, {});
  t.deepEqual(other.asked, []);
  t.is(other.decision.reason, "pinned");
  const registryDown = await judge(policy, "ghcr.io/acme/app:1", OLD, {
    [OLD]: { error: { code: "ERR_REGISTRY_TIMEOUT", message: "timed out", unavailable: true } },
  });
  t.is(registryDown.decision.action, "deny");
  t.regex(
    registryDown.decision.message,
    /signatures of sha256:a{64} could not be checked \(ERR_REGISTRY_TIMEOUT: timed out\)\. Retry later\./,
  );
});

test("a key may be one key of a Secret or ConfigMap in digestpin's namespace, checked when read", (t) => {
  const policy = policyOf(`signatures:
  - images: ["ghcr.io/**"]
    keys:
      - name: qa
        secretRef: { name: cosign-keys, key: qa.pub }
      - name: lead
        configMapRef: { name: cosign-keys, key: lead.pub }
approvals:
  signedBy: [qa]
`);
  t.deepEqual(policy.settings.signatures?.[0]?.keys, [
    { name: "qa", secretRef: { name: "cosign-keys", key: "qa.pub" } },
    { name: "lead", configMapRef: { name: "cosign-keys", key: "lead.pub" } },
  ]);
  const key = (text: string) =>
    issuesOf(`signatures:\n  - images: ["ghcr.io/**"]\n    keys:\n      - ${text}\n`);
  t.deepEqual(key(`{ name: qa, pem: x, secretRef: { name: k, key: p } }`), [
    "6:9 signatures[0].keys[0]: a key needs a name and one of pem (the cosign.pub text), secretRef or configMapRef",
  ]);
  t.deepEqual(key(`{ name: qa, secretRef: { name: Keys, key: p } }`), [
    '6:40 signatures[0].keys[0].secretRef.name: "Keys" is not an object name (lowercase letters, digits, "-" and ".")',
  ]);
  t.deepEqual(key(`{ name: qa, configMapRef: { name: keys } }`), [
    "6:35 signatures[0].keys[0].configMapRef.key: key is required",
  ]);
});
