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
 * A run of some groups only (`only`, from --only) replaces just their tables (matched by their
 * number, `### 6.`) and target rows, and notes its own date and commit under "The run"; the
 * other groups' figures stay as their last full run wrote them.
 */
export async function writeBenchmarks(
  results: readonly GroupResult[],
  about: readonly string[],
  only?: readonly string[],
): Promise<string> {
  const path = join(REPO_ROOT, "BENCHMARKS.md");
  const current = await readFile(path, "utf8").catch(() => `# Benchmarks\n\n${BEGIN}\n${END}\n`);
  const begin = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  if (begin === -1 || end < begin) throw new Error(`${path}: the figure markers are missing`);
  const tables = results.flatMap((result) => result.tables.map(markdownTable));
  const targets = markdownTable(checksTable(results.flatMap((result) => result.checks)));
  const figures =
    only === undefined
      ? ["## The run", about.join("\n"), ...tables, targets].join("\n\n")
      : mergeFigures(current.slice(begin + BEGIN.length, end), tables, targets, about, only);
  const text =
    current.slice(0, begin + BEGIN.length) + "\n\n" + figures + "\n\n" + current.slice(end);
  await writeFile(path, text);
  return path;
}

/** The figures of an earlier run with the tables, target rows and date of a partial run. */
function mergeFigures(
  old: string,
  tables: readonly string[],
  targets: string,
  about: readonly string[],
  only: readonly string[],
): string {
  const blocks = old
    .split(/^(?=##+ )/m)
    .map((block) => block.trim())
    .filter((block) => block !== "");
  // A table is known by its number: `### 6.` (its title may name the run's settings).
  const key = (block: string): string =>
    (block.split("\n")[0] ?? "").split(" ").slice(0, 2).join(" ");
  const tableLines = (block: string): string[] =>
    block.split("\n").filter((line) => line.startsWith("|"));
  const target = (row: string): string => row.split(" | ")[0] ?? "";
  const added = tableLines(targets).slice(2);
  const mergeTargets = (block: string): string => {
    const lines = tableLines(block);
    const kept = lines.slice(2).filter((row) => !added.some((a) => target(a) === target(row)));
    return ["### Targets", "", ...lines.slice(0, 2), ...kept, ...added].join("\n");
  };
  const marker = `- \`--only ${only.join(",")}\` measured separately:`;
  const date = about[0]?.replace(/^- date: /, "") ?? "";
  const load = /load average at start .*/.exec(about[2] ?? "")?.[0] ?? "";
  const runLine = `${marker} ${date}; ${load}`;
  const out: string[] = [];
  const placed = new Set<string>();
  const placeRest = (): void => {
    for (const table of tables) if (!placed.has(key(table))) out.push(table);
    for (const table of tables) placed.add(key(table));
  };
  for (const block of blocks) {
    if (block.startsWith("## The run")) {
      const lines = block.split("\n").filter((line) => !line.startsWith(marker));
      out.push([...lines, runLine].join("\n"));
    } else if (block.startsWith("### Targets")) {
      placeRest();
      out.push(mergeTargets(block));
    } else {
      const replacement = tables.find((table) => key(table) === key(block));
      if (replacement !== undefined) placed.add(key(block));
      out.push(replacement ?? block);
    }
  }
  if (!blocks.some((block) => block.startsWith("## The run")))
    out.unshift(["## The run", ...about, runLine].join("\n"));
  placeRest();
  if (!blocks.some((block) => block.startsWith("### Targets"))) out.push(targets);
  return out.join("\n\n");
}

function git(args: readonly string[]): string {
  try {
    return execFileSync("git", args, { cwd: REPO_ROOT, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}
