import { spawn } from "node:child_process";

/** What a finished command printed and how it exited; a non-zero exit is not an exception. */
export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

export interface RunOptions {
  /** Written to the command's stdin (stdin is closed either way). */
  readonly input?: string;
  /** Added to (and overriding) this process's environment. */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

/** Runs `command` to completion, capturing its output. Fails only if it cannot be started. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
      timeout: options.timeoutMs ?? 120_000,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      resolve({
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr:
          Buffer.concat(stderr).toString("utf8") + (signal === null ? "" : `\n[killed: ${signal}]`),
        exitCode: code ?? 128,
      });
    });
    child.stdin.on("error", () => undefined); // the command may exit without reading stdin
    child.stdin.end(options.input ?? "");
  });
}
