import { readFile } from "node:fs/promises";
import {
  checkFileDocument,
  formatIssue,
  mergePins,
  PolicyInvalidError,
  splitPolicyFile,
  type ParsedDocument,
} from "../policy/index.ts";
import { EXIT_USAGE, readCommandArgs, type CliIO, type Command } from "./command.ts";

const usage = `Usage: digestpin policy validate FILE…

Checks policy documents (kind: Policy) and pins documents (kind: Pins) against the schema in
docs/policy.md. A file holds one document, several separated by ---, or the ConfigMap manifests
that wrap them as kept in Git (data: policy.yaml or pins.yaml). Prints "FILE: ok (N pins)" for
a valid file, or every error in it as FILE:LINE:COLUMN: PATH: what is wrong (lines of the file,
also inside a ConfigMap). When all are valid and at most one is a Policy, their pins are also
merged as the webhook merges them: a tag pinned to different digests in two places is an error.

Exit status: 0 when everything is valid, 1 on any error, 2 on a usage error.

Options:
  -h, --help   Show this help.
`;

/** `digestpin policy validate FILE…`: the policy schema, offline. */
export const policyCommand: Command = {
  name: "policy",
  summary: "Validate policy and pins files",
  usage,
  run,
};

async function run(args: readonly string[], io: CliIO): Promise<number> {
  const parsed = readCommandArgs(policyCommand, args, {}, io);
  if (typeof parsed === "number") return parsed;
  const [subcommand, ...files] = parsed.positionals;
  if (subcommand !== "validate") {
    const what =
      subcommand === undefined ? "no subcommand given" : `unknown subcommand "${subcommand}"`;
    io.stderr(`digestpin policy: ${what}\n\n${usage}`);
    return EXIT_USAGE;
  }
  if (files.length === 0) {
    io.stderr(`digestpin policy validate: no file given\n\n${usage}`);
    return EXIT_USAGE;
  }
  return validate(files, io);
}

async function validate(files: readonly string[], io: CliIO): Promise<number> {
  const documents: ParsedDocument[] = [];
  let failed = false;
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      io.stderr(`${file}: cannot read: ${(error as Error).message}\n`);
      failed = true;
      continue;
    }
    const results = splitPolicyFile(text, file).map((document) => checkFileDocument(document));
    const issues = results.flatMap((r) => (r.ok ? [] : r.issues));
    if (results.length === 0) {
      io.stderr(
        `${file}: holds no digestpin Policy or Pins document (nor a ConfigMap with policy.yaml or pins.yaml)\n`,
      );
      failed = true;
      continue;
    }
    if (issues.length > 0) {
      for (const issue of issues) io.stderr(`${formatIssue(issue)}\n`);
      failed = true;
      continue;
    }
    const valid = results.flatMap((r) => (r.ok ? [r.document] : []));
    const count = valid.reduce((sum, document) => sum + document.pins.length, 0);
    const several = valid.length > 1 ? `${String(valid.length)} documents, ` : "";
    io.stdout(`${file}: ok (${several}${String(count)} ${count === 1 ? "pin" : "pins"})\n`);
    documents.push(...valid);
  }
  const policies = documents.filter((document) => document.kind === "Policy").length;
  if (!failed && documents.length > 1 && policies <= 1) {
    try {
      mergePins(documents);
    } catch (error) {
      if (!(error instanceof PolicyInvalidError)) throw error;
      for (const issue of error.issues) io.stderr(`${formatIssue(issue)}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}
