import { execFileSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { checksTable, markdownTable, type GroupResult } from "./report.ts";
import { REPO_ROOT } from "./servers.ts";

/** The machine and build a run measured, for the top of BENCHMARKS.md. */
export function machine(): string[] {
  const cpu = cpus();
  const commit = git(["rev-parse", "--short", "HEAD"]);
  const dirty = git(["status", "--porcelain", "--", "src"]) === "" ? "" : " (with changes)";
  return [
    `- date: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC; digestpin ${commit}${dirty}`,
    `- CPU: ${cpu.length} × ${cpu[0]?.model.trim() ?? "unknown"}; memory ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    `- Linux ${release()}; Node ${process.version}; load average at start ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
    "- a shared machine: figures move from run to run; the ratios in one table were measured in one run, interleaved",
  ];
}

const BEGIN = "<!-- figures: written by make bench (bench/run.ts); edit around them -->";
const END = "<!-- end of figures -->";

/**
 * Puts this run's machine, tables and targets into BENCHMARKS.md between its figure markers;
 * the text around them (what is measured, what the figures show) is written by people and kept.
 */
export async function writeBenchmarks(
  results: readonly GroupResult[],
  about: readonly string[],
): Promise<string> {
  const path = join(REPO_ROOT, "BENCHMARKS.md");
  const current = await readFile(path, "utf8").catch(() => `# Benchmarks\n\n${BEGIN}\n${END}\n`);
  const begin = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  if (begin === -1 || end < begin) throw new Error(`${path}: the figure markers are missing`);
  const figures = [
    "## The run",
    about.join("\n"),
    ...results.flatMap((result) => result.tables.map(markdownTable)),
    markdownTable(checksTable(results.flatMap((result) => result.checks))),
  ].join("\n\n");
  const text =
    current.slice(0, begin + BEGIN.length) + "\n\n" + figures + "\n\n" + current.slice(end);
  await writeFile(path, text);
  return path;
}

function git(args: readonly string[]): string {
  try {
    return execFileSync("git", args, { cwd: REPO_ROOT, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}
