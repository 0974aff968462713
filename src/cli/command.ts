import { parseArgs, type ParseArgsConfig } from "node:util";
/** What a CLI command reads and writes; injected so tests can run commands in-process. */
export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The environment (HOME, DOCKER_CONFIG, KUBECONFIG…), read only by commands at start. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** All of standard input (for `-f -`). */
  readonly readStdin: () => Promise<string>;
  /** Whether stderr is a terminal (progress is then redrawn in place); default false. */
  readonly stderrIsTTY?: boolean;
}

/** One `digestpin <name>` subcommand. `run` returns the process exit status. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(args: readonly string[], io: CliIO): Promise<number>;
}

/** Exit status for a usage error or an invalid input. */
export const EXIT_USAGE = 2;

/** Exit status for an error that stopped a command (nothing was decided). */
export const EXIT_ERROR = 2;

export function wantsHelp(args: readonly string[]): boolean {
  return args.includes("--help") || args.includes("-h");
}

/** Reports a usage error of `command` (the message, then its usage) and returns EXIT_USAGE. */
export function usageError(
  command: Pick<Command, "name" | "usage">,
  io: CliIO,
): (message: string) => number {
  return (message) => {
    io.stderr(`digestpin ${command.name}: ${message}\n\n${command.usage}`);
    return EXIT_USAGE;
  };
}

type OptionsConfig = NonNullable<ParseArgsConfig["options"]>;
type WithHelp<O extends OptionsConfig> = O & { help: { type: "boolean"; short: "h" } };
export type CommandArgs<O extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ options: WithHelp<O>; allowPositionals: true }>
>;

/**
 * Parses a command's arguments (with `-h/--help` added). Returns the parsed values and
 * positionals, or the exit status when there is nothing more to do: 0 after printing the
 * usage for --help, EXIT_USAGE after reporting an unknown or malformed option.
 */
export function readCommandArgs<O extends OptionsConfig>(
  command: Pick<Command, "name" | "usage">,
  args: readonly string[],
  options: O,
  io: CliIO,
): CommandArgs<O> | number {
  let parsed: CommandArgs<O>;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { ...options, help: { type: "boolean", short: "h" } },
    });
  } catch (error) {
    return usageError(command, io)((error as Error).message);
  }
  if ((parsed.values as { help?: boolean }).help === true) {
    io.stdout(command.usage);
    return 0;
  }
  return parsed;
}
