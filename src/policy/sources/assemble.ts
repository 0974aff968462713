import { buildPolicy, composePolicy, PinMerge, type Policy } from "../decide/index.ts";
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

/**
 * assemblePolicy kept up to date by differences, for a source that reloads: the same checks and
 * the same policy, but after an edit only the pins of the documents that changed are merged
 * again (PinMerge) and the new policy's pin index is made from the last one's, with
 * `pinChanges` naming the keys whose pin changed. A document that did not change must be the
 * same object as before (a DocumentCache gives that).
 */
export class PolicyAssembler {
  readonly #merge = new PinMerge();
  #last: Policy | undefined;

  assemble(policy: DocumentResult, pins: readonly DocumentResult[]): AssembleResult {
    const issues: PolicyIssue[] = [];
    const pinDocuments: PinsDocument[] = [];
    for (const result of [policy, ...pins]) {
      if (!result.ok) issues.push(...result.issues);
      else if (result !== policy && result.document.kind === "Pins")
        pinDocuments.push(result.document);
    }
    if (!policy.ok || issues.length > 0) return { ok: false, issues };
    if (policy.document.kind !== "Policy") {
      const source = policy.document.source;
      const message = "expected a kind: Policy document here, got kind: Pins";
      return { ok: false, issues: [{ source, line: 0, column: 0, path: "kind", message }] };
    }
    const sources = [policy.document, ...pinDocuments];
    const merged = this.#merge.update(sources);
    if (!merged.ok) return { ok: false, issues: merged.issues };
    const names = sources.map((source) => source.source);
    const last = this.#last;
    const built = composePolicy(
      policy.document.settings,
      merged.index,
      last !== undefined && sameNames(last.sources, names) ? last.sources : names,
      last === undefined ? undefined : { policy: last, pinChanges: merged.changed },
    );
    this.#last = built;
    return { ok: true, policy: built };
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, index) => name === b[index]);
}

/** A document that could not be read at all (a missing file, a ConfigMap without its key). */
export function unreadable(source: string, message: string): DocumentResult {
  return { ok: false, issues: [{ source, line: 0, column: 0, path: "", message }] };
}
