import { isDigestpinError } from "../errors.ts";
import { EXIT_ERROR, EXIT_USAGE, type CliIO } from "./command.ts";
import { commands } from "./commands.ts";

const overview = (): string =>
  [
    "digestpin: pin container image tags to reviewed digests",
    "",
    "Usage: digestpin <command> [options]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`),
    "",
    "Run 'digestpin <command> --help' for a command's options; 'digestpin --version' prints",
    "the version.",
    "",
    "Exit status: 0 done; 1 something was denied, refused or failed (each command's --help",
    "says what); 2 a usage error, or an error that stopped the command.",
    "",
  ].join("\n");

/** Runs `digestpin ARGV…` and returns the exit status. */
export async function dispatch(argv: readonly string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout(overview());
    return name === undefined ? EXIT_USAGE : 0;
  }
  const command = commands.find((c) => c.name === (name === "--version" ? "version" : name));
  if (command === undefined) {
    io.stderr(`digestpin: unknown command "${name}"\n\n${overview()}`);
    return EXIT_USAGE;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    // Whatever a command did not handle still ends as one line, never a stack trace.
    const message = error instanceof Error ? error.message : String(error);
    const internal = isDigestpinError(error) ? "" : " (an unexpected error: please report it)";
    io.stderr(`digestpin ${name}: ${message.split("\n")[0] ?? message}${internal}\n`);
    return EXIT_ERROR;
  }
}
