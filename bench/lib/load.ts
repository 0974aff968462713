import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BurstConfig, BurstSummary } from "../load/burst.ts";
import type { ClosedLoopConfig, ClosedLoopSummary } from "../load/closed-loop.ts";
import type { OpenLoopConfig, OpenLoopSummary } from "../load/open-loop.ts";
import type { PodCreatesConfig, PodCreatesSummary } from "../load/pod-creates.ts";
import { onCpus, type CpuRole } from "./cpus.ts";
import { REPO_ROOT } from "./servers.ts";

/** Runs a load script of bench/load/ as its own process and returns the summary it prints. */
async function runLoadProcess<T>(
  script: string,
  config: object,
  dir: string,
  cpus?: CpuRole,
): Promise<T> {
  const configFile = join(dir, `load-${randomBytes(4).toString("hex")}.json`);
  await writeFile(configFile, JSON.stringify(config));
  return new Promise((resolve, reject) => {
    const run = onCpus(cpus, process.execPath, [
      "--import",
      "tsx",
      join(REPO_ROOT, "bench/load", script),
      configFile,
    ]);
    const child = spawn(run.command, run.args, {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      const text = Buffer.concat(out).toString("utf8").trim();
      const last = text.split("\n").at(-1) ?? "";
      if (code === 0 && last.startsWith("{")) resolve(JSON.parse(last) as T);
      else
        reject(
          new Error(
            `${script} exited ${String(code)}: ${Buffer.concat(err).toString("utf8").slice(-2000)}`,
          ),
        );
    });
  });
}

/** `cpus`: "load" runs the generator on its own CPU (cpus.ts), for comparisons of servers. */
export const closedLoop = (
  config: ClosedLoopConfig,
  dir: string,
  cpus?: CpuRole,
): Promise<ClosedLoopSummary> => runLoadProcess("closed-loop.ts", config, dir, cpus);

export const openLoop = (
  config: OpenLoopConfig,
  dir: string,
  cpus?: CpuRole,
): Promise<OpenLoopSummary> => runLoadProcess("open-loop.ts", config, dir, cpus);

export const burst = (config: BurstConfig, dir: string): Promise<BurstSummary> =>
  runLoadProcess("burst.ts", config, dir);

export const podCreates = (config: PodCreatesConfig, dir: string): Promise<PodCreatesSummary> =>
  runLoadProcess("pod-creates.ts", config, dir);
