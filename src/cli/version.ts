import { digestpinVersion } from "../observability/index.ts";
import { readCommandArgs, usageError, type Command } from "./command.ts";

const usage = `Usage: digestpin version [-o json]
       digestpin --version

Prints digestpin's version (package.json's). -o json adds the Node.js version running it.

Options:
  -o, --output FORMAT   json: {"version","node"}
  -h, --help            Show this help.
`;

/** `digestpin version` (and `digestpin --version`): which digestpin this is. */
export const versionCommand: Command = {
  name: "version",
  summary: "Print digestpin's version",
  usage,
  run(args, io) {
    const parsed = readCommandArgs(
      versionCommand,
      args,
      { output: { type: "string", short: "o" } },
      io,
    );
    if (typeof parsed === "number") return Promise.resolve(parsed);
    const fail = usageError(versionCommand, io);
    const { values, positionals } = parsed;
    if (positionals.length > 0)
      return Promise.resolve(fail(`unexpected argument "${positionals[0] ?? ""}"`));
    if (values.output === "json") {
      io.stdout(`${JSON.stringify({ version: digestpinVersion, node: process.version })}\n`);
    } else if (values.output === undefined) {
      io.stdout(`${digestpinVersion}\n`);
    } else {
      return Promise.resolve(fail(`-o ${values.output}: give json, or no -o`));
    }
    return Promise.resolve(0);
  },
};
