// Decisions: a policy generation compiled for lookups (pins indexed, matchers built) and the
// pure decision table for one image reference, with its verdicts and messages. No I/O.
export { decide, decideWith } from "./decide.ts";
export * from "./decision.ts";
export { buildPolicy, composePolicy, policyFromText, type Policy } from "./policy.ts";
export { PinIndex, repositoryOfKey, type DigestUse, type PinChanges } from "./pin-index.ts";
export { notePinDelta, PinMerge, samePin, type MergeResult, type PinDelta } from "./pin-merge.ts";
export { mergePins, type PinSource } from "./merge.ts";
export { compileRegistries, type RegistryMatcher } from "./registry-matcher.ts";
export { compileExemptions, type ExemptionMatcher } from "./exemptions.ts";
export { nameAsWritten, rewriteImage } from "./rewrite.ts";
export { approveCommand, provenance, shortDigest, shortImage } from "./messages.ts";
export { deny } from "./verdicts.ts";
export { admittedDigest, decideBase, type BaseObservation } from "./decide-base.ts";
export { baseLink, baseStatus, baseVerdict, type BaseStatus } from "./base-status.ts";
export { NAMESPACE_NAME_LABEL, nameOnlyLabels, policyInNamespace } from "./namespace-settings.ts";
export {
  approverKeys,
  decideApproval,
  decideRequired,
  keyLabel,
  signatureRuleOf,
  type SignatureFinding,
  type SignatureObservation,
  type Signer,
} from "./decide-signatures.ts";
