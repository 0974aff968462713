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
