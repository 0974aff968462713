import { appendFileSync, mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * One row of docs/reliability.md, as a test measured it: what was tried, what was injected or
 * held, and what came out. Tests call `reportRow`; scripts/soak-report.ts renders the rows.
 */
export interface ReliabilityRow {
  /** `inputs`, `faults`, `load`, `lifecycle` or `security`. */
  readonly section: "inputs" | "faults" | "load" | "lifecycle" | "security";
  /** What was tried (an input family, a fault, a load shape). */
  readonly subject: string;
  /** How much of it: cases, reviews, rate, duration… */
  readonly tried: string;
  /** What came out, in figures. */
  readonly outcome: string;
  /** Extra figures for the report (kept as JSON). */
  readonly figures?: Readonly<Record<string, unknown>>;
}

const root = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Logs the row in the test's output (t.log) and, when DIGESTPIN_REPORT_DIR is set (make soak
 * sets it), appends it with the test file and title to `<dir>/<section>.jsonl`. A test whose
 * assertions failed reports nothing: its figures would claim what it did not show.
 */
export function reportRow(
  t: { log(...values: unknown[]): void; title: string; passed?: boolean },
  file: string,
  row: ReliabilityRow,
): void {
  if (t.passed === false) {
    t.log(`reliability: not reported, the test failed: ${row.subject}`);
    return;
  }
  t.log(`reliability: ${row.subject} | ${row.tried} | ${row.outcome}`);
  const dir = process.env.DIGESTPIN_REPORT_DIR;
  if (dir === undefined || dir === "") return;
  mkdirSync(dir, { recursive: true });
  const source = relative(root, file.startsWith("file:") ? fileURLToPath(file) : file);
  const line = JSON.stringify({ ...row, source, test: t.title, at: new Date().toISOString() });
  appendFileSync(join(dir, `${row.section}.jsonl`), `${line}\n`);
}
