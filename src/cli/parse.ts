import { parseArgs } from "node:util";
import {
  canonicalOf,
  familiarOf,
  nameOf,
  tryParseReference,
  type ImageReference,
} from "../reference/index.ts";
import { EXIT_USAGE, usageError, type CliIO, type Command } from "./command.ts";

const usage = `Usage: digestpin parse REF…

Parses each image reference as Kubernetes nodes do (distribution/reference with Docker's
normalization: "busybox" is docker.io/library/busybox:latest) and prints one JSON object per
line:

  {"input","registry","repository","tag","digest","name","canonical","familiar"}

tag is the tag given, "latest" when neither tag nor digest is given, or null when only a digest
is given; name is registry/repository; canonical is name, ":tag" and "@digest" as present;
familiar is the short form Docker shows. An invalid reference prints {"input","error"} instead
and its error on stderr, and the exit status is then 2.

Options:
  -h, --help   Show this help.
`;

/** `digestpin parse REF…`: the reference grammar, one JSON line per reference. */
export const parseCommand: Command = {
  name: "parse",
  summary: "Show how image references are read and normalized",
  usage,
  run(args, io) {
    return Promise.resolve(run(args, io));
  },
};

function run(args: readonly string[], io: CliIO): number {
  const { help, inputs } = readArgs(args);
  if (help) {
    io.stdout(usage);
    return 0;
  }
  if (inputs.length === 0) {
    return usageError(parseCommand, io)("no image reference given");
  }
  let status = 0;
  for (const input of inputs) {
    const result = tryParseReference(input);
    if (result.ok) {
      io.stdout(`${JSON.stringify(referenceFields(input, result.reference))}\n`);
    } else {
      io.stdout(`${JSON.stringify({ input, error: result.error.message })}\n`);
      io.stderr(`digestpin parse: ${result.error.message}\n`);
      status = EXIT_USAGE;
    }
  }
  return status;
}

function referenceFields(input: string, ref: ImageReference): Record<string, string | null> {
  return {
    input,
    registry: ref.registry,
    repository: ref.repository,
    tag: ref.tag,
    digest: ref.digest,
    name: nameOf(ref),
    canonical: canonicalOf(ref),
    familiar: familiarOf(ref),
  };
}

/**
 * Only --help/-h is an option. Every other argument is a reference, even one that starts with
 * "-" (no valid reference does, so "-foo" gets its own error line rather than a usage error).
 */
function readArgs(args: readonly string[]): { help: boolean; inputs: string[] } {
  const { tokens } = parseArgs({
    args: [...args],
    options: { help: { type: "boolean", short: "h" } },
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  let help = false;
  const inputs: string[] = [];
  let previous = -1;
  for (const token of tokens) {
    if (token.kind === "option-terminator" || token.index === previous) continue;
    previous = token.index;
    const raw = args[token.index] ?? "";
    if (token.kind === "option" && (raw === "--help" || raw === "-h")) help = true;
    else inputs.push(raw);
  }
  return { help, inputs };
}
