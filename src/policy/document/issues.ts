import { DigestpinError } from "../../errors.ts";

/** One problem in a policy or pins document, located so a person can go and fix it. */
export interface PolicyIssue {
  /** A file name or `configmap NAMESPACE/NAME`. */
  readonly source: string;
  /** 1-based line and column; 0 when there is no position (e.g. a pin built in code). */
  readonly line: number;
  readonly column: number;
  /** The YAML path, e.g. `pins["docker.io/library/busybox:1.36"].digest`; "" for the document. */
  readonly path: string;
  /** What is wrong and what is expected. */
  readonly message: string;
}

/** `policy.yaml:12:5: pins["…"].digest: "sha256:abc" is not a sha256 digest (…)`. */
export function formatIssue(issue: PolicyIssue): string {
  const where = issue.line > 0 ? `${issue.source}:${issue.line}:${issue.column}` : issue.source;
  return issue.path === ""
    ? `${where}: ${issue.message}`
    : `${where}: ${issue.path}: ${issue.message}`;
}

/** A policy or pins document (or a set of them) that cannot be used; carries every issue. */
export class PolicyInvalidError extends DigestpinError {
  static readonly code = "ERR_POLICY_INVALID";

  readonly issues: readonly PolicyIssue[];

  constructor(issues: readonly PolicyIssue[]) {
    const count = issues.length === 1 ? "1 error" : `${issues.length} errors`;
    super(
      PolicyInvalidError.code,
      [`invalid policy (${count}):`, ...issues.map(formatIssue)].join("\n  "),
    );
    this.issues = issues;
  }
}
