import { buildPolicy, type Policy } from "../decide/index.ts";
import {
  PolicyInvalidError,
  type DocumentResult,
  type PinsDocument,
  type PolicyIssue,
} from "../document/index.ts";

export type AssembleResult =
  | { readonly ok: true; readonly policy: Policy }
  | { readonly ok: false; readonly issues: readonly PolicyIssue[] };

/**
 * One policy from the policy document and every pins document, each already checked (see
 * checkPolicyDocument). Every problem of every document is reported; when all are valid, a tag
 * pinned to different digests in two of them is reported naming both. Pins documents are
 * merged in the order given (callers sort them, e.g. by ConfigMap name, to be deterministic).
 */
export function assemblePolicy(
  policy: DocumentResult,
  pins: readonly DocumentResult[],
): AssembleResult {
  const issues: PolicyIssue[] = [];
  const pinDocuments: PinsDocument[] = [];
  for (const result of [policy, ...pins]) {
    if (!result.ok) issues.push(...result.issues);
  }
  for (const result of pins) {
    if (result.ok && result.document.kind === "Pins") pinDocuments.push(result.document);
  }
  if (!policy.ok || issues.length > 0) return { ok: false, issues };
  if (policy.document.kind !== "Policy") {
    const source = policy.document.source;
    const message = "expected a kind: Policy document here, got kind: Pins";
    return { ok: false, issues: [{ source, line: 0, column: 0, path: "kind", message }] };
  }
  try {
    return { ok: true, policy: buildPolicy(policy.document, pinDocuments) };
  } catch (error) {
    if (error instanceof PolicyInvalidError) return { ok: false, issues: error.issues };
    throw error;
  }
}

/** A document that could not be read at all (a missing file, a ConfigMap without its key). */
export function unreadable(source: string, message: string): DocumentResult {
  return { ok: false, issues: [{ source, line: 0, column: 0, path: "", message }] };
}
