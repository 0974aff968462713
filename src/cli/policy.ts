import { readFile } from "node:fs/promises";
import {
  checkPolicyDocument,
  formatIssue,
  mergePins,
  PolicyInvalidError,
  type ParsedDocument,
} from "../policy/index.ts";
import { EXIT_USAGE, readCommandArgs, type CliIO, type Command } from "./command.ts";

const usage = `Usage: digestpin policy validate FILE…

Checks policy files (kind: Policy) and pins files (kind: Pins) against the schema in
docs/policy.md. Prints "FILE: ok (N pins)" for a valid file, or every error in it as
FILE:LINE:COLUMN: PATH: what is wrong. When all files are valid and at most one is a Policy,
their pins are also merged as the webhook merges them: a tag pinned to different digests in two
files is an error.

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
    const result = checkPolicyDocument(text, file);
    if (result.ok) {
      const count = result.document.pins.length;
      io.stdout(`${file}: ok (${count} ${count === 1 ? "pin" : "pins"})\n`);
      documents.push(result.document);
    } else {
      for (const issue of result.issues) io.stderr(`${formatIssue(issue)}\n`);
      failed = true;
    }
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
