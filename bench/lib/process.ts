import { spawn } from "node:child_process";
import { once } from "node:events";
import { openSync, closeSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { Service, StartOptions } from "../../test/harness/service.ts";
import { onCpus, type CpuRole } from "./cpus.ts";

/** A program the benchmark started, its output written straight to a file (not through us). */
export interface Child extends Service {
  readonly pid: number;
}

export interface SpawnOptions extends StartOptions {
  /** Where the output goes: a pipe read by `cat` (default), or straight into the file. */
  readonly output?: "pipe" | "file";
  /** The CPUs to run on (cpus.ts): the servers' in a comparison. */
  readonly cpus?: CpuRole;
}

/**
 * Starts a program whose stdout and stderr are a pipe, as in a container, read by `cat` (as by
 * the container runtime's shim) into `logFile`: a log line costs the program one write to a
 * pipe, and none of it passes this process.
 */
export function spawnLogged(options: SpawnOptions): Child {
  const fd = openSync(options.logFile, "a");
  const shim =
    options.output === "file" ? spawn("true") : spawn("cat", [], { stdio: ["pipe", fd, "ignore"] });
  const out = options.output === "file" ? fd : shim.stdin;
  const run = onCpus(options.cpus, options.command, options.args);
  const child = spawn(run.command, run.args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", out, out],
  });
  closeSync(fd);
  shim.stdin?.destroy(); // the program holds the pipe now; cat ends when it exits
  if (child.pid === undefined)
    throw new Error(`${options.name}: could not start ${options.command}`);
  const exited = Promise.all([once(child, "exit"), once(shim, "exit")]).then(() => undefined);
  const logTail = async (chars = 3000): Promise<string> =>
    (await readFile(options.logFile, "utf8").catch(() => "")).slice(-chars);
  return {
    name: options.name,
    pid: child.pid,
    logFile: options.logFile,
    process: child,
    logTail,
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const done = await Promise.race([exited.then(() => true), sleep(graceMs, false)]);
        if (!done) child.kill("SIGKILL");
      }
      await exited;
    },
  };
}

/** Waits until `find` returns a value for the log's text; fails when the program exits first. */
export async function waitForLog<T>(
  child: Child,
  find: (text: string) => T | undefined,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find(await readFile(child.logFile, "utf8").catch(() => ""));
    if (found !== undefined) return found;
    if (child.process.exitCode !== null || child.process.signalCode !== null)
      throw new Error(`${child.name} exited early:\n${await child.logTail()}`);
    if (Date.now() > deadline)
      throw new Error(`${child.name} not ready in ${timeoutMs} ms:\n${await child.logTail()}`);
    await sleep(50);
  }
}

/** Resident set size now and at its peak (VmHWM), in bytes, from /proc. */
export async function memoryOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: kib("VmRSS") * 1024, peak: kib("VmHWM") * 1024 };
}

/** CPU time (user + system) a process has used, in ms, from /proc/PID/stat. */
export async function cpuMsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}
