export * from "./schema.ts";
export { formatIssue, PolicyInvalidError, type PolicyIssue } from "./issues.ts";
export {
  checkPolicyDocument,
  parsePolicyDocument,
  type DocumentResult,
  type ParseOptions,
} from "./document.ts";
export { mergePins, type PinSource } from "./merge.ts";
export { PinStore, repositoryOfKey, type DigestUse } from "./pin-store.ts";
export { buildPolicy, policyFromText, type Policy } from "./policy.ts";
export { compileRegistries, type RegistryMatcher } from "./registry-hosts.ts";
export { compileExemptions, type ExemptionMatcher } from "./exemptions.ts";
export { compileGlob, globProblem, type ImageGlob } from "./glob.ts";
export { formatDuration, parseDuration, type DurationResult } from "./duration.ts";
export { decide, decideWith } from "./decide.ts";
export * from "./decision.ts";
export { nameAsWritten, rewriteImage } from "./rewrite.ts";
export type { PolicyListener, PolicySource } from "./source.ts";
export { PolicyHolder, type PolicyHolderOptions } from "./policy-holder.ts";
export { assemblePolicy, unreadable, type AssembleResult } from "./assemble.ts";
export { DocumentCache } from "./document-cache.ts";
export { FilePolicySource, type FileSourceOptions } from "./file-source.ts";
export * from "./locations.ts";
export { addPins, type AddOutcome } from "./pin-edit.ts";
export { approvePin, type Approval } from "./pin-approve.ts";
export { emptyPinsText } from "./pin-render.ts";
export {
  editPolicy,
  PolicyConflictError,
  viewOf,
  type EditResult,
  type PolicySnapshot,
  type PolicyStore,
  type PolicyView,
  type StoredDocument,
} from "./policy-store.ts";
export { PolicyFiles } from "./policy-files.ts";
export { rfc3339 } from "./time.ts";
