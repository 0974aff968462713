import { digestpinVersion } from "../../observability/index.ts";
import type { Decision, DecisionReason, RegistryFailure } from "../../policy/index.ts";
import type { ListShape } from "../output.ts";

/** One image of one object of a manifest, decided. */
export interface Finding {
  /** The manifest file as given (or found under a directory given); `-` for stdin. */
  readonly file: string;
  /** The image's line and column in the file (from 1), when known. */
  readonly line: number | undefined;
  readonly column: number | undefined;
  /** `Deployment/web`, or `Deployment/team/web` with a namespace. */
  readonly object: string;
  /** `containers[web]`, `initContainers[setup]`, … */
  readonly place: string;
  /** The image as the manifest has it. */
  readonly image: string;
  readonly decision: Decision;
  /** Why the registry could not say which digest the tag has, when it was asked and could not. */
  readonly registryFailure: RegistryFailure | undefined;
}

/** How bad a finding is for the check: fails it, warns, or nothing to say. */
export type Severity = "failure" | "warning" | "note" | "none";

export function severityOf(finding: Finding, failOnUnreachable: boolean): Severity {
  if (finding.decision.action === "deny") return "failure";
  if (failOnUnreachable && finding.registryFailure !== undefined) return "failure";
  if (finding.decision.wouldDeny) return "warning";
  return finding.decision.warning !== undefined ? "note" : "none";
}

/** What a finding says to a person: the denial, else the warning, else the decision. */
export function findingText(finding: Finding): string {
  const { decision } = finding;
  if (decision.action === "deny") return decision.message;
  if (finding.registryFailure !== undefined && decision.warning === undefined)
    return `${finding.image}: the registry could not be asked: ${finding.registryFailure.message}`;
  return decision.warning ?? decision.message;
}

/** `file:line`, or the file alone when the line is not known. */
export function locationOf(finding: Finding): string {
  return finding.line === undefined ? finding.file : `${finding.file}:${String(finding.line)}`;
}

/** The findings as a list (-o table|json|yaml|name); -o name prints each image as decided. */
export const findingList: ListShape<Finding> = {
  header: ["FILE", "OBJECT", "PLACE", "IMAGE", "DECISION", "REASON"],
  row: ({ decision, ...f }) => [
    locationOf(f as Finding),
    f.object,
    f.place,
    f.image,
    decision.action,
    decision.wouldDeny && decision.action !== "deny"
      ? `${decision.reason} (would deny)`
      : decision.reason,
  ],
  name: (f) => (f.decision.action === "mutate" ? f.decision.image : f.image),
  object: (f) => ({
    file: f.file,
    ...(f.line !== undefined && { line: f.line }),
    object: f.object,
    place: f.place,
    image: f.image,
    action: f.decision.action,
    reason: f.decision.reason,
    ...(f.decision.action === "mutate" && { admittedAs: f.decision.image }),
    wouldDeny: f.decision.wouldDeny,
    message: f.decision.message,
    ...(f.decision.warning !== undefined && { warning: f.decision.warning }),
    ...(f.registryFailure !== undefined && { registryError: f.registryFailure.code }),
  }),
};

/** What each reason a check reports means (SARIF rule descriptions, JUnit failure types). */
const REASON_TEXT: Partial<Record<DecisionReason, string>> = {
  "invalid-reference": "The image reference is not valid",
  "registry-not-allowed": "The image's registry is not in the policy's registries",
  drift: "The tag moved: the registry serves another digest than the pin",
  "registry-unavailable": "The registry could not be asked which digest the tag has",
  "registry-error": "The registry refused to say which digest the tag has",
  unpinned: "The tag is not pinned",
  "digest-mismatch": "The image's digest is not the one pinned for its tag",
  "digest-unknown": "The image's digest is not pinned for any tag",
  "not-digest-form": "The image is not in digest form",
  "base-unpinned": "A base image of the image is not pinned",
  "base-drifted": "A base image of the image moved from its pin",
};

function ruleText(reason: DecisionReason): string {
  return REASON_TEXT[reason] ?? `digestpin decided ${reason}`;
}

/** The rule a finding breaks: its decision's reason, or registry-unavailable/-error. */
function ruleOf(finding: Finding): DecisionReason {
  if (finding.decision.action === "deny" || finding.registryFailure === undefined)
    return finding.decision.reason;
  return finding.registryFailure.unavailable ? "registry-unavailable" : "registry-error";
}

const SARIF_LEVEL: Record<Exclude<Severity, "none">, string> = {
  failure: "error",
  warning: "warning",
  note: "note",
};

/**
 * A SARIF 2.1.0 log of the findings that say something (denials and, with
 * --fail-on-unreachable, registry failures as errors; would-be denials as warnings; other
 * warnings as notes): one rule per reason, each result at the image's line of its manifest, so
 * that GitHub code scanning annotates that line.
 */
export function sarifReport(findings: readonly Finding[], failOnUnreachable: boolean): string {
  const reported = findings.flatMap((finding) => {
    const severity = severityOf(finding, failOnUnreachable);
    return severity === "none" ? [] : [{ finding, severity, rule: ruleOf(finding) }];
  });
  const rules = [...new Set(reported.map((r) => r.rule))].toSorted();
  const log = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "digestpin",
            version: digestpinVersion,
            informationUri: "https://github.com/digestpin/digestpin",
            rules: rules.map((id) => ({
              id,
              name: id,
              shortDescription: { text: ruleText(id) },
              helpUri: "https://github.com/digestpin/digestpin/blob/main/docs/policy.md",
            })),
          },
        },
        results: reported.map(({ finding, severity, rule }) => ({
          ruleId: rule,
          ruleIndex: rules.indexOf(rule),
          level: SARIF_LEVEL[severity],
          message: { text: findingText(finding) },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: artifactUri(finding.file) },
                ...(finding.line !== undefined && {
                  region: {
                    startLine: finding.line,
                    ...(finding.column !== undefined && { startColumn: finding.column }),
                  },
                }),
              },
              logicalLocations: [
                { fullyQualifiedName: `${finding.object}/${finding.place}`, kind: "object" },
              ],
            },
          ],
        })),
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}

/** A path as a SARIF artifact URI: forward slashes, relative as given, stdin as `stdin`. */
function artifactUri(file: string): string {
  if (file === "-") return "stdin";
  return encodeURI(file.replace(/\\/g, "/").replace(/^\.\//, ""));
}

/**
 * A JUnit XML report: one test suite per manifest file, one test case per image; a failing
 * finding is a <failure> whose type is the reason, a warning goes to <system-out>.
 */
export function junitReport(findings: readonly Finding[], failOnUnreachable: boolean): string {
  const files = [...new Set(findings.map((f) => f.file))];
  let failuresTotal = 0;
  const suites = files.map((file) => {
    const cases = findings.filter((f) => f.file === file);
    const failures = cases.filter((f) => severityOf(f, failOnUnreachable) === "failure").length;
    failuresTotal += failures;
    const body = cases.map((finding) => {
      const severity = severityOf(finding, failOnUnreachable);
      const name = `${finding.object} ${finding.place} ${finding.image}`;
      const open =
        `    <testcase classname="${xml(file)}" name="${xml(name)}" file="${xml(file)}"` +
        (finding.line === undefined ? "" : ` line="${String(finding.line)}"`);
      if (severity === "none") return `${open}/>`;
      const text = xml(findingText(finding));
      const inner =
        severity === "failure"
          ? `<failure type="${xml(ruleOf(finding))}" message="${text}">${xml(locationOf(finding))}: ${text}</failure>`
          : `<system-out>${xml(locationOf(finding))}: ${text}</system-out>`;
      return `${open}>\n      ${inner}\n    </testcase>`;
    });
    return (
      `  <testsuite name="${xml(file)}" tests="${String(cases.length)}" failures="${String(failures)}" errors="0" skipped="0">\n` +
      `${body.join("\n")}${body.length > 0 ? "\n" : ""}  </testsuite>`
    );
  });
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="digestpin check" tests="${String(findings.length)}" failures="${String(failuresTotal)}" errors="0">\n` +
    `${suites.join("\n")}${suites.length > 0 ? "\n" : ""}</testsuites>\n`
  );
}

/** Text for XML attributes and content: markup and control characters escaped. */
function xml(text: string): string {
  return (
    text
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "\ufffd")
  );
}
