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

export function wantsHelp(args: readonly string[]): boolean {
  return args.includes("--help") || args.includes("-h");
}
