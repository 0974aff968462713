/** One table of results: printed aligned on stdout, and as Markdown in BENCHMARKS.md. */
export interface Table {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Sentences under the table: how it was measured, what the figures mean. */
  readonly notes?: readonly string[];
}

/** A target of the issue and whether this run met it. */
export interface Check {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | "not run";
}

export interface GroupResult {
  readonly tables: readonly Table[];
  readonly checks: readonly Check[];
}

export function ms(value: number): string {
  if (!Number.isFinite(value)) return "–";
  return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0);
}

export function count(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "–";
}

export function mb(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 1024 / 1024).toFixed(0)} MB` : "–";
}

export function percent(ratio: number): string {
  return Number.isFinite(ratio) ? `${(ratio * 100).toFixed(0)} %` : "–";
}

/** A ratio as a factor: "1.18 ×". */
export function times(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)} ×` : "–";
}

export function textTable(table: Table): string {
  const widths = table.columns.map((column, i) =>
    Math.max(column.length, ...table.rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join("  ");
  return [
    table.title,
    line(table.columns),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...table.rows.map(line),
  ].join("\n");
}

export function markdownTable(table: Table): string {
  const escape = (cell: string): string => cell.replaceAll("|", "\\|");
  const lines = [
    `| ${table.columns.map(escape).join(" | ")} |`,
    `|${table.columns.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
    ...table.rows.map((row) => `| ${row.map(escape).join(" | ")} |`),
  ];
  const notes = (table.notes ?? []).map((note) => `\n${note}`);
  return [`### ${table.title}`, "", ...lines, ...notes].join("\n");
}

export function checksTable(checks: readonly Check[]): Table {
  return {
    title: "Targets",
    columns: ["target", "measured", "met"],
    rows: checks.map((c) => [
      c.target,
      c.measured,
      c.met === "not run" ? "not run" : c.met ? "yes" : "NO",
    ]),
  };
}
