import { generateKeyPairSync } from "node:crypto";
import test from "ava";
import { signatureRuleOf, type Policy } from "../../../src/policy/index.ts";
import { parseReference } from "../../../src/reference/index.ts";
import { policyOf } from "./fixtures.ts";

// signatureRuleOf keeps the rule each reference matched per policy generation (the
// `signatures` list object): the same policy answers from the memo; an edited policy is a new
// list and is matched afresh, never answered with a rule of the policy before it.

const QA_PEM = generateKeyPairSync("ec", { namedCurve: "P-256" })
  .publicKey.export({ type: "spki", format: "pem" })
  .toString();
const pem = QA_PEM.trim()
  .split("\n")
  .map((line) => `          ${line}`)
  .join("\n");

/** A policy whose rules cover `globs` in order (`required` set on the last only). */
function policyCovering(...globs: string[]): Policy {
  const rules = globs.map(
    (glob, i) => `  - images: ["${glob}"]
    required: ${i === globs.length - 1}
    keys:
      - name: qa
        pem: |
${pem}`,
  );
  return policyOf(`signatures:\n${rules.join("\n")}\n`);
}

const ref = parseReference;

test("the same policy gives the same rule object for a reference, asked again or parsed again", (t) => {
  const policy = policyCovering("ghcr.io/acme/**", "ghcr.io/**");
  const first = signatureRuleOf(policy, ref("ghcr.io/acme/app:1"));
  t.is(first, policy.settings.signatures?.[0]);
  t.is(signatureRuleOf(policy, ref("ghcr.io/acme/app:1")), first);
  t.is(signatureRuleOf(policy, ref("ghcr.io/other/app:1")), policy.settings.signatures?.[1]);
  t.is(signatureRuleOf(policy, ref("docker.io/library/busybox:1")), undefined);
  t.is(signatureRuleOf(policy, ref("docker.io/library/busybox:1")), undefined);
});

test("an edited policy is matched afresh: a rule removed, narrowed or added is seen at once", (t) => {
  const image = ref("ghcr.io/acme/app:1");
  const before = policyCovering("ghcr.io/acme/**");
  t.is(signatureRuleOf(before, image)?.images[0], "ghcr.io/acme/**");
  const narrowed = policyCovering("ghcr.io/acme/other:*");
  t.is(signatureRuleOf(narrowed, image), undefined);
  const widened = policyCovering("ghcr.io/acme/app:*", "ghcr.io/**");
  t.is(signatureRuleOf(widened, image)?.images[0], "ghcr.io/acme/app:*");
  t.true(signatureRuleOf(widened, image)?.required === false);
  t.is(signatureRuleOf(policyOf("mode: enforce\n"), image), undefined);
  // The policy before the edit still answers with its own rule.
  t.is(signatureRuleOf(before, image), before.settings.signatures?.[0]);
});

test("tag, digest and both are told apart, as the globs see them", (t) => {
  const digest = `sha256:${"a".repeat(64)}`;
  const policy = policyCovering("ghcr.io/acme/app:1");
  t.truthy(signatureRuleOf(policy, ref("ghcr.io/acme/app:1")));
  t.is(signatureRuleOf(policy, ref("ghcr.io/acme/app:2")), undefined);
  t.is(signatureRuleOf(policy, ref(`ghcr.io/acme/app@${digest}`)), undefined);
  t.truthy(signatureRuleOf(policy, ref(`ghcr.io/acme/app:1@${digest}`)));
  const byDigest = policyCovering(`ghcr.io/acme/app@${digest}`);
  t.truthy(signatureRuleOf(byDigest, ref(`ghcr.io/acme/app@${digest}`)));
  t.truthy(signatureRuleOf(byDigest, ref(`ghcr.io/acme/app:1@${digest}`)));
  t.is(signatureRuleOf(byDigest, ref("ghcr.io/acme/app:1")), undefined);
});

test("past its bound the memo starts over and still answers right", (t) => {
  const policy = policyCovering("ghcr.io/acme/**");
  for (let i = 0; i < 10_050; i++) {
    const image = ref(`${i % 2 === 0 ? "ghcr.io/acme" : "quay.io/acme"}/app:${i}`);
    t.is(signatureRuleOf(policy, image) !== undefined, i % 2 === 0);
  }
  t.truthy(signatureRuleOf(policy, ref("ghcr.io/acme/app:0")));
  t.is(signatureRuleOf(policy, ref("quay.io/acme/app:1")), undefined);
});
