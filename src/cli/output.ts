import { stringify } from "yaml";

/** The options of every command whose output is a list: `-o FORMAT` and `--no-headers`. */
export const outputOptions = {
  output: { type: "string", short: "o" },
  "no-headers": { type: "boolean" },
} as const;

/** The formats every list prints in, as kubectl's: a table, JSON, YAML, or names only. */
export const LIST_FORMATS = ["table", "json", "yaml", "name"] as const;
export type ListFormat = (typeof LIST_FORMATS)[number];

export const outputUsage = `  -o, --output FORMAT         table (default), json, yaml or name (one name a line)
  --no-headers                No header line in the table
`;

/** How a list of `T` is printed in each format. */
export interface ListShape<T> {
  readonly header: readonly string[];
  readonly row: (item: T) => readonly string[];
  /** What -o name prints for the item. */
  readonly name: (item: T) => string;
  /** What -o json and -o yaml print for the item. */
  readonly object: (item: T) => unknown;
}

/**
 * The -o value, checked: one of LIST_FORMATS or of `extra` (a command's own formats, such as
 * check's junit and sarif). A string that is not a format is returned as a usage problem.
 */
export function readFormat<E extends string = never>(
  value: string | undefined,
  extra: readonly E[] = [],
): { format: ListFormat | E } | { problem: string } {
  const format = value ?? "table";
  const known: readonly string[] = [...LIST_FORMATS, ...extra];
  if (known.includes(format)) return { format: format as ListFormat | E };
  return {
    problem: `-o ${format}: give ${known.slice(0, -1).join(", ")} or ${known.at(-1) ?? ""}`,
  };
}

/** `items` printed in `format` (json: an array, yaml: a sequence, name: one a line). */
export function formatList<T>(
  items: readonly T[],
  shape: ListShape<T>,
  format: ListFormat,
  noHeaders = false,
): string {
  switch (format) {
    case "json":
      return `${JSON.stringify(
        items.map((item) => shape.object(item)),
        null,
        2,
      )}\n`;
    case "yaml":
      return items.length === 0
        ? "[]\n"
        : stringify(
            items.map((item) => shape.object(item)),
            { lineWidth: 0 },
          );
    case "name":
      return items.map((item) => `${shape.name(item)}\n`).join("");
    case "table":
      return formatTable(noHeaders ? undefined : shape.header, items.map(shape.row));
  }
}

/** A plain text table: columns padded to their widest cell, two spaces apart. */
export function formatTable(
  header: readonly string[] | undefined,
  rows: readonly (readonly string[])[],
): string {
  const all = header === undefined ? rows : [header, ...rows];
  const columns = Math.max(0, ...all.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, column) =>
    Math.max(0, ...all.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0),
      )
      .join("  ")
      .trimEnd();
  return all.map((row) => `${line(row)}\n`).join("");
}
