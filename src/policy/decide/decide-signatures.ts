import { nameOf, type ImageReference } from "../../reference/index.ts";
import {
  compileGlob,
  type ImageGlob,
  type SignatureKey,
  type SignatureRule,
} from "../document/index.ts";
import { withBaseDenial } from "./decide-base.ts";
import type { Decision, DecisionContext, PinMove, RegistryFailure } from "./decision.ts";
import { canonicalForms } from "./exemptions.ts";
import { clip, shortDigest, shortImage, type DenialText } from "./messages.ts";
import type { Policy } from "./policy.ts";
import { rewriteImage } from "./rewrite.ts";
import { mutate } from "./verdicts.ts";

/** A signature of the digest by a key of the rule, verified (found in the registry). */
export interface Signer {
  /** The key's name in the policy. */
  readonly keyName: string;
  readonly keyId: string;
  /** `sha256:` of the signature's bytes. */
  readonly signatureDigest: string;
  /** `sig-tag` (cosign's `.sig` tag) or `bundle` (a sigstore bundle referrer). */
  readonly format: string;
}

/** A signature that did not count, or why none was found (one line for a person). */
export interface SignatureFinding {
  /** no-signature, unknown-key, bad-signature, digest-mismatch, malformed, registry-error. */
  readonly reason: string;
  readonly message: string;
}

/** What the registry holds about the signatures of one digest, judged against a rule's keys. */
export type SignatureObservation =
  | { readonly signers: readonly Signer[]; readonly problems: readonly SignatureFinding[] }
  | { readonly error: RegistryFailure };

/** The compiled globs of each rule, made once per rule object (a policy generation's). */
const GLOBS = new WeakMap<SignatureRule, readonly ImageGlob[]>();

/**
 * The rule each image reference matched, per `signatures` list (a policy generation's object:
 * an edited policy brings a new list, so an edit is never answered from here), by the
 * reference's parts. Bounded: emptied when it holds MAX_REFERENCES.
 */
const RULE_OF = new WeakMap<readonly SignatureRule[], Map<string, SignatureRule | null>>();
const MAX_REFERENCES = 10_000;

/** The first `signatures` rule whose images match `ref`; undefined when none does. */
export function signatureRuleOf(policy: Policy, ref: ImageReference): SignatureRule | undefined {
  const rules = policy.settings.signatures ?? [];
  if (rules.length === 0) return undefined;
  let matched = RULE_OF.get(rules);
  if (matched === undefined) {
    matched = new Map();
    RULE_OF.set(rules, matched);
  }
  // Every form globs are matched against is made of these four parts (see canonicalForms).
  const key = `${ref.registry}\u0000${ref.repository}\u0000${ref.tag ?? ""}\u0000${ref.digest ?? ""}`;
  const known = matched.get(key);
  if (known !== undefined) return known ?? undefined;
  const rule = firstMatch(rules, ref);
  if (matched.size >= MAX_REFERENCES) matched.clear();
  matched.set(key, rule ?? null);
  return rule;
}

function firstMatch(
  rules: readonly SignatureRule[],
  ref: ImageReference,
): SignatureRule | undefined {
  const forms = canonicalForms(ref);
  return rules.find((rule) => {
    let globs = GLOBS.get(rule);
    if (globs === undefined) {
      globs = rule.images.map(compileGlob);
      GLOBS.set(rule, globs);
    }
    return globs.some((glob) => forms.some((form) => glob.matches(form)));
  });
}

/** The keys of `rule` whose signatures approve a moved tag (`approvals.signedBy`). */
export function approverKeys(policy: Policy, rule: SignatureRule): SignatureKey[] {
  const names = policy.settings.approvals?.signedBy ?? [];
  return rule.keys.filter((key) => names.includes(key.name));
}

/** `qa (sha256:0123456789ab)`; a key not given inline: `qa (secret cosign-keys/qa.pub)`. */
export function keyLabel(key: SignatureKey): string {
  if (key.id !== undefined) return `${key.name} (${shortDigest(key.id)})`;
  const ref = key.secretRef ?? key.configMapRef;
  const kind = key.secretRef === undefined ? "configmap" : "secret";
  return `${key.name} (${kind} ${ref?.name ?? "?"}/${ref?.key ?? "?"})`;
}

/**
 * A moved tag (a decision with `drift`) whose new digest carries signatures of at least
 * `approvals.minSigners` approver keys: admitted at the new digest, and the pin moves there
 * (`move`, recorded by the webhook as `digestpin approve` records a person; never on dry-run).
 * Otherwise the decision stays what it was, its message saying why no signature approved it.
 */
export function decideApproval(
  decision: Decision,
  policy: Policy,
  context: DecisionContext,
  rule: SignatureRule,
  observed: SignatureObservation,
): Decision {
  const drift = decision.drift;
  const ref = decision.reference;
  const approvers = approverKeys(policy, rule);
  const minSigners = policy.settings.approvals?.minSigners ?? 1;
  if (drift === undefined || ref === null || approvers.length === 0) return decision;
  const image = decision.input;
  if ("error" in observed) {
    return withNote(
      decision,
      `No approval by signature: the signatures of ${drift.current} could not be read (${observed.error.code}: ${observed.error.message}).`,
    );
  }
  const signed = approvers.filter((key) => observed.signers.some((s) => s.keyName === key.name));
  if (signed.length < minSigners) {
    const names = approvers.map(keyLabel).join(", ");
    const have = signed.length === 0 ? "none has" : `only ${signed.map((k) => k.name).join(", ")}`;
    const problem = observed.problems.find((p) => p.reason !== "no-signature");
    const why =
      problem === undefined
        ? `${drift.current} is not signed by an approver key`
        : `a signature of ${drift.current} does not count: ${problem.message}`;
    return withNote(
      decision,
      `No approval by signature: ${why} (approvers ${names}: ${have} signed, ${minSigners} needed). ` +
        `To approve it, an approver signs it: cosign sign --key <approver key> ${nameOf(ref)}@${drift.current}.`,
    );
  }
  // Named by the key that verified (its id is known even for a key read from a Secret).
  const signatures = signed.map((key) => {
    const found = observed.signers.find((s) => s.keyName === key.name);
    return {
      key: found === undefined ? key : { ...key, id: found.keyId },
      signature: found?.signatureDigest ?? "",
      format: found?.format ?? "",
    };
  });
  const pinnedBy = signatures.map((s) => `signature ${keyLabel(s.key)}`).join(", ");
  const reason = signatures
    .map((s) => `signed ${drift.current}: signature ${s.signature} (${s.format})`)
    .join("; ");
  const target = {
    image: rewriteImage(image, ref, drift.current, policy.settings.rewrite),
    digest: drift.current,
  };
  const who = signatures.map((s) => keyLabel(s.key)).join(", ");
  if (context.dryRun) {
    const message = `dry run: ${drift.key} moved to ${drift.current}, approved by the signature of ${who}; would move the pin from ${drift.pinned} (nothing recorded)`;
    const warning = `dry run: ${shortImage(image)} approved by signature of ${signatures.map((s) => s.key.name).join(", ")}`;
    return mutate("signature-approved", image, ref, target, { message, warning });
  }
  const move: PinMove = {
    key: drift.key,
    from: drift.pinned,
    digest: drift.current,
    pinnedBy,
    reason,
  };
  const message = `${drift.key} moved to ${drift.current}, approved by the signature of ${who}; the pin moves from ${drift.pinned}`;
  const warning = `${shortImage(image)} moved to ${shortDigest(drift.current)}: approved by signature of ${signatures.map((s) => s.key.name).join(", ")}, pin moved`;
  return { ...mutate("signature-approved", image, ref, { ...target, move }, { message, warning }) };
}

/**
 * A `signatures` rule with `required: true`: the digest a decision admits must be signed by
 * one of the rule's keys. Otherwise the image is denied (through `mode`), naming what was
 * found (no signature, a key that is not trusted, a payload changed after signing) and how to
 * fix it. A registry that cannot be read denies too: an unverified image is not admitted.
 */
export function decideRequired(
  decision: Decision,
  digest: string,
  policy: Policy,
  rule: SignatureRule,
  observed: SignatureObservation,
): Decision {
  const ref = decision.reference;
  if (ref === null) return decision;
  if (!("error" in observed) && observed.signers.length > 0) {
    const by = observed.signers.map((s) => s.keyName).join(", ");
    const note = `; ${shortDigest(digest)} is signed by ${by}`;
    return { ...decision, message: `${decision.message}${note}` };
  }
  const image = decision.input;
  const keys = rule.keys.map(keyLabel).join(", ");
  const target = `${nameOf(ref)}@${digest}`;
  const fix = `Sign it with a trusted key (cosign sign --key <key> ${target}), or fix the signatures rule`;
  if ("error" in observed) {
    const failure = `${observed.error.code}: ${observed.error.message}`;
    const text: DenialText = {
      message: `image "${image}": the policy requires a signature by ${keys}, but the signatures of ${digest} could not be checked (${failure}). Retry later.`,
      summary: "signatures could not be checked",
    };
    return withBaseDenial(
      decision,
      observed.error.unavailable ? "registry-unavailable" : "registry-error",
      text,
      policy.settings.mode,
    );
  }
  const problem =
    observed.problems.find((p) => p.reason !== "no-signature" && p.reason !== "registry-error") ??
    observed.problems.find((p) => p.reason === "registry-error");
  if (problem === undefined) {
    const text: DenialText = {
      message: `image "${image}": ${digest} is not signed, and the policy requires a signature by ${keys}. ${fix}.`,
      summary: `not signed by ${rule.keys.map((k) => k.name).join(" or ")}`,
    };
    return withBaseDenial(decision, "unsigned", text, policy.settings.mode);
  }
  const text: DenialText = {
    message: `image "${image}": ${digest} has no valid signature by ${keys}: ${problem.message}. ${problem.reason === "registry-error" ? "Retry later" : fix}.`,
    summary: clip(`invalid signature (${problem.reason})`, 60),
  };
  return withBaseDenial(decision, "signature-invalid", text, policy.settings.mode);
}

/** The decision with `note` added to its message (and audit note), for people and logs. */
function withNote(decision: Decision, note: string): Decision {
  return {
    ...decision,
    message: `${decision.message} ${note}`,
    ...(decision.audit !== undefined && { audit: `${decision.audit} ${note}` }),
  };
}
