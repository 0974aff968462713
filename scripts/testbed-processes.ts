import { readFile, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

/** A program `make testbed-up` left running: its pid and the binary it runs. */
export interface RecordedProcess {
  readonly pid: number;
  readonly name: string;
}

/** Writes `pid name` lines, in start order. */
export async function recordProcesses(
  file: string,
  processes: readonly RecordedProcess[],
): Promise<void> {
  await writeFile(file, processes.map(({ pid, name }) => `${pid} ${name}\n`).join(""));
}

export async function readProcesses(file: string): Promise<RecordedProcess[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([pid, name]) => pid !== undefined && /^\d+$/.test(pid) && name !== undefined)
    .map(([pid, name]) => ({ pid: Number(pid), name: name! }));
}

/**
 * Whether `recorded` still runs: its pid exists and runs the recorded program (a pid the
 * kernel has since reused for something else is left alone).
 */
export async function isRunning(recorded: RecordedProcess): Promise<boolean> {
  const cmdline = await readFile(`/proc/${recorded.pid}/cmdline`, "utf8").catch(() => "");
  const program = cmdline.split("\0")[0] ?? "";
  return program === recorded.name || program.endsWith(`/${recorded.name}`);
}

/**
 * Stops the recorded programs, last started first: SIGTERM, then SIGKILL for whatever still
 * runs after `graceMs`. Returns the names of those it had to kill.
 */
export async function stopProcesses(
  processes: readonly RecordedProcess[],
  graceMs = 10_000,
): Promise<string[]> {
  const killed: string[] = [];
  for (const recorded of processes.toReversed()) {
    if (!(await isRunning(recorded))) continue;
    process.kill(recorded.pid, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while ((await isRunning(recorded)) && Date.now() < deadline) await sleep(100);
    if (await isRunning(recorded)) {
      process.kill(recorded.pid, "SIGKILL");
      killed.push(recorded.name);
    }
  }
  return killed;
}
