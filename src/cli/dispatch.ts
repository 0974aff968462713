import { EXIT_USAGE, type CliIO } from "./command.ts";
import { commands } from "./index.ts";

const overview = (): string =>
  [
    "digestpin: pin container image tags to reviewed digests",
    "",
    "Usage: digestpin <command> [options]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`),
    "",
    "Run 'digestpin <command> --help' for a command's options.",
    "",
  ].join("\n");

/** Runs `digestpin ARGV…` and returns the exit status. */
export async function dispatch(argv: readonly string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout(overview());
    return name === undefined ? EXIT_USAGE : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    io.stderr(`digestpin: unknown command "${name}"\n\n${overview()}`);
    return EXIT_USAGE;
  }
  return command.run(rest, io);
}
