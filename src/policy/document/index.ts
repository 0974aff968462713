// The policy document: its schema, and the YAML readers that turn a Policy or Pins document
// into it, reporting every issue at once with its line and column.
export * from "./schema.ts";
export { formatIssue, PolicyInvalidError, type PolicyIssue } from "./issues.ts";
export {
  checkPolicyDocument,
  parsePolicyDocument,
  type DocumentResult,
  type ParseOptions,
} from "./document.ts";
export { formatDuration, parseDuration, type DurationResult } from "./duration.ts";
export { compileGlob, globProblem, type ImageGlob } from "./glob.ts";
export { labelKeyProblem, labelValueProblem, selects, type Labels } from "./label-selector.ts";
export { readReview, REVIEW_KEYS, REVIEW_PATHS, reviewNode } from "./pin-review.ts";
export { canonicalHost, hostPatternProblem } from "./registry-hosts.ts";
export {
  checkFileDocument,
  checkPolicyFile,
  checkPolicyFiles,
  combineFiles,
  type CheckedFile,
  type CheckedFiles,
  type FileRead,
} from "./policy-file.ts";
export { splitPolicyFile, type FileDocument } from "./file-documents.ts";
export {
  checkedFile,
  checkPlainDocument,
  checkPlainFile,
  editPlainDocument,
  type PlainDocument,
  type PlainEdit,
} from "./plain-edit.ts";
