// Which CPUs the measured processes run on: with taskset and two CPUs or more, the load
// generator gets the last CPU to itself and the servers compared share the others.
import { execFileSync } from "node:child_process";
import { availableParallelism } from "node:os";

/** What a process is in a comparison: a server measured, or the load sent to it. */
export type CpuRole = "servers" | "load";

function split(): Record<CpuRole, string> | undefined {
  const count = availableParallelism();
  if (count < 2) return undefined;
  try {
    execFileSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" });
  } catch {
    return undefined;
  }
  return { load: String(count - 1), servers: count === 2 ? "0" : `0-${String(count - 2)}` };
}

/** The CPUs of each role, or undefined where they cannot be chosen (one CPU, no taskset). */
export const CPU_SPLIT = split();

/** `command args` run on the CPUs of `role` (as is without a split, or without a role). */
export function onCpus(
  role: CpuRole | undefined,
  command: string,
  args: readonly string[],
): { command: string; args: string[] } {
  const cpus = role === undefined ? undefined : CPU_SPLIT?.[role];
  return cpus === undefined
    ? { command, args: [...args] }
    : { command: "taskset", args: ["-c", cpus, command, ...args] };
}

/** One line for a table's notes: how the CPUs were shared. */
export function cpuNote(): string {
  return CPU_SPLIT === undefined
    ? "The load generator and the servers shared every CPU (no taskset, or one CPU)."
    : `The load generator ran on CPU ${CPU_SPLIT.load} alone, the servers compared on CPU ${CPU_SPLIT.servers} (taskset); the registry and the benchmark itself were not pinned.`;
}

/**
 * Moves a running process (every thread of it) to the CPUs of `role`, or back to every CPU;
 * false where CPUs cannot be chosen. For programs another harness started, e.g. the testbed
 * API server and etcd.
 */
export function moveToCpus(role: CpuRole | "all", pid: number): boolean {
  const cpus =
    CPU_SPLIT === undefined
      ? undefined
      : role === "all"
        ? `0-${String(availableParallelism() - 1)}`
        : CPU_SPLIT[role];
  if (cpus === undefined) return false;
  try {
    execFileSync("taskset", ["-a", "-p", "-c", cpus, String(pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
