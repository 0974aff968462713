import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { Launch } from "./kube-launch.ts";

/**
 * A `Launch` for `make testbed-up`: the program gets its own process group, its output goes
 * straight to the log file and nothing ties it to this process, so it keeps running after the
 * command exits. `stop()` works while this process lives (to undo a failed start); later,
 * `make testbed-down` stops it by the pid recorded in .testbed/.
 */
export const launchDetached: Launch = (options) => {
  const log = openSync(options.logFile, "a");
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", log, log],
    detached: true,
  });
  closeSync(log);
  child.unref();
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      resolve();
    }),
  );
  return {
    name: options.name,
    logFile: options.logFile,
    process: child,
    async logTail(chars = 3000) {
      const text = await readFile(options.logFile, "utf8").catch(() => "");
      return text.slice(-chars);
    },
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timeout = new AbortController();
      const done = await Promise.race([
        exited.then(() => true),
        sleep(graceMs, false, { signal: timeout.signal }).catch(() => false),
      ]);
      timeout.abort();
      if (!done) child.kill("SIGKILL");
      await exited;
    },
  };
};
