import { andThen, recover, type AtOnce } from "../at-once.ts";
import {
  admittedDigest,
  approverKeys,
  decideApproval,
  decideRequired,
  signatureRuleOf,
  type Decision,
  type DecisionContext,
  type Policy,
  type SignatureKey,
  type SignatureObservation,
  type SignatureRule,
} from "../policy/index.ts";
import type { ImageReference } from "../reference/index.ts";
import type { Keychain, RepositoryName } from "../registry/index.ts";
import { registryFailure } from "./facts.ts";

/**
 * Finds and verifies the cosign signatures of a digest against a rule's keys (the webhook's
 * PolicySignatures, injected): signers named by the policy's key names, at once when a result
 * is kept. Never throws for what the registry holds; a failure to reach it may throw or reject
 * (a RegistryError).
 */
export type VerifySignaturesFn = (
  name: RepositoryName,
  digest: string,
  keys: readonly SignatureKey[],
  options: { readonly keychain: Keychain; readonly deadline: number },
) => AtOnce<SignatureObservation>;

export interface SignatureFactsContext extends DecisionContext {
  /** Epoch ms by which the review must be answered: signatures are read within it. */
  readonly deadline: number;
  readonly keychain: () => AtOnce<Keychain>;
}

/**
 * What a decision becomes once the signatures its `signatures` rule asks for are known, read
 * only when needed (no rule for the image: nothing is read):
 *
 * - a moved tag (`drift`) and `approvals` naming keys of the rule: the new digest's signatures
 *   may approve it (decideApproval);
 * - `required: true` and the decision admits a digest: that digest must be signed by a key of
 *   the rule (decideRequired).
 */
export function applySignatureFacts(
  decision: Decision,
  policy: Policy,
  verify: VerifySignaturesFn,
  context: SignatureFactsContext,
): AtOnce<Decision> {
  const ref = decision.reference;
  if (ref === null) return decision;
  const rule = signatureRuleOf(policy, ref);
  if (rule === undefined) return decision; // at once: nothing to read
  return withSignatures(decision, ref, rule, policy, verify, context);
}

/** The decision once the rule's signatures are known: at once when every one is kept. */
function withSignatures(
  decision: Decision,
  ref: ImageReference,
  rule: SignatureRule,
  policy: Policy,
  verify: VerifySignaturesFn,
  context: SignatureFactsContext,
): AtOnce<Decision> {
  const observe = (digest: string): AtOnce<SignatureObservation> => {
    const ask = (keychain: Keychain) =>
      verify(ref, digest, rule.keys, { keychain, deadline: context.deadline });
    return recover(
      () => andThen(context.keychain(), ask),
      (error) => ({ error: registryFailure(error) }),
    );
  };
  const required = (decided: Decision): AtOnce<Decision> => {
    const digest = rule.required ? admittedDigest(decided) : undefined;
    if (digest === undefined) return decided;
    return andThen(observe(digest), (observed) =>
      decideRequired(decided, digest, policy, rule, observed),
    );
  };
  if (decision.drift !== undefined && approverKeys(policy, rule).length > 0) {
    const approved = andThen(observe(decision.drift.current), (observed) =>
      decideApproval(decision, policy, context, rule, observed),
    );
    return andThen(approved, required);
  }
  return required(decision);
}
