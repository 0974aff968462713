import { dispatch } from "../../src/cli/dispatch.ts";

export interface CliRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout split into lines, without the final newline. */
  readonly lines: string[];
}

/** Runs `digestpin ARGS…` in-process with captured output and the given environment. */
export async function runCli(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  stdin = "",
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const status = await dispatch(args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env,
    readStdin: () => Promise.resolve(stdin),
  });
  const lines = stdout === "" ? [] : stdout.trimEnd().split("\n");
  return { status, stdout, stderr, lines };
}
