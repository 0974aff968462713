import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

/** A long-running testbed program whose output goes to a log file. */
export interface Service {
  readonly name: string;
  readonly logFile: string;
  readonly process: ChildProcess;
  /** Stops the program (SIGTERM, then SIGKILL after `graceMs`) and waits for it to exit. */
  stop(graceMs?: number): Promise<void>;
  /** The end of the log, for error messages. */
  logTail(chars?: number): Promise<string>;
}

export interface StartOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export function startService(options: StartOptions): Service {
  const log = createWriteStream(options.logFile, { flags: "a" });
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      resolve();
    }),
  );
  const logTail = async (chars = 3000): Promise<string> => {
    const text = await readFile(options.logFile, "utf8").catch(() => "");
    return text.slice(-chars);
  };
  return {
    name: options.name,
    logFile: options.logFile,
    process: child,
    logTail,
    async stop(graceMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const killed = await Promise.race([
          exited.then(() => true),
          sleep(graceMs, false, { ref: false }),
        ]);
        if (!killed) child.kill("SIGKILL");
        await exited;
      }
      log.end();
    },
  };
}

/**
 * Polls `probe` until it resolves true, failing with the service's log tail when the service
 * exits or `timeoutMs` passes.
 */
export async function waitUntilReady(
  service: Service,
  probe: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (service.process.exitCode !== null || service.process.signalCode !== null) {
      throw new Error(`${service.name} exited early:\n${await service.logTail()}`);
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${service.name} not ready after ${timeoutMs} ms:\n${await service.logTail()}`,
      );
    }
    await sleep(100);
  }
}
