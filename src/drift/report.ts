import { parse, stringify } from "yaml";

/** A workload using a pinned tag, and the digests its Pods run (their `imageID`). */
export interface Workload {
  readonly namespace: string;
  /** `Deployment`, `StatefulSet`, `DaemonSet`, `Job`, `Pod`, … */
  readonly kind: string;
  readonly name: string;
  /** Digests the workload's Pods run the image at; empty when no Pod reported one. */
  readonly running: readonly string[];
}

/** How the new image differs from the pinned one (see change.ts). */
export interface ChangeSummary {
  /** One clause per platform (how the layers relate), `; `-separated. */
  readonly summary: string;
  readonly layersAdded: number;
  readonly layersRemoved: number;
  /** The files added, removed and changed (files.ts), or why they were not compared. */
  readonly files?: FilesSummary | string | undefined;
  /** When the leader computed it (RFC 3339); `digestpin diff` shows it when it reuses it. */
  readonly computedAt?: string | undefined;
}

/** Files of the new image against the pinned one: counts, and the first paths marked +, -, ~. */
export interface FilesSummary {
  readonly added: number;
  readonly removed: number;
  readonly changed: number;
  readonly paths: readonly string[];
}

/** A pinned tag whose registry now serves another digest. */
export interface MovedTag {
  readonly tag: string;
  readonly pinned: string;
  readonly current: string;
  /** When a scan first saw the tag away from its pin (RFC 3339). */
  readonly firstSeen: string;
  /** When a scan last asked the registry and got `current`. */
  readonly lastChecked: string;
  readonly change?: ChangeSummary | undefined;
  /** Why the change could not be summarized, if it could not. */
  readonly changeError?: string | undefined;
  readonly workloads: readonly Workload[];
  /** Set while the registry cannot be asked: the entry stays as last seen. */
  readonly unreachable?: string | undefined;
}

/** A pinned tag the last scan could not check (never drift by itself). */
export interface UnreachableTag {
  readonly tag: string;
  readonly error: string;
  readonly since: string;
}

/** The report the scan leader keeps in the ConfigMap `digestpin-drift`. */
export interface DriftReport {
  readonly scannedAt: string;
  readonly scannedBy: string;
  /** The tags the last scan asked about. */
  readonly checked: number;
  readonly moved: readonly MovedTag[];
  readonly unreachable: readonly UnreachableTag[];
}

/** What one request of a scan found for one pin. */
export interface CheckResult {
  readonly tag: string;
  readonly pinned: string;
  /** The registry's digest now, or why it could not be asked. */
  readonly outcome: { readonly digest: string } | { readonly error: string };
}

export const REPORT_KEY = "drift.yaml";

/**
 * The report after a scan: a tag whose registry digest is its pin has no entry (an approval
 * clears it); a moved tag keeps its first-seen time while its pin stays, and a new digest makes
 * it news again; a tag that could not be checked keeps its entry as it was, marked unreachable
 * (an error never makes or clears drift). `news` are the entries to announce (one Event per
 * tag and new digest). Pure.
 */
export function nextReport(
  previous: DriftReport | undefined,
  results: readonly CheckResult[],
  context: { readonly now: string; readonly by: string },
): { report: DriftReport; news: MovedTag[] } {
  const before = new Map(previous?.moved.map((entry) => [entry.tag, entry]));
  const unreachableBefore = new Map(previous?.unreachable.map((entry) => [entry.tag, entry]));
  const moved: MovedTag[] = [];
  const unreachable: UnreachableTag[] = [];
  const news: MovedTag[] = [];
  for (const result of results) {
    const earlier = before.get(result.tag);
    const samePin = earlier?.pinned === result.pinned ? earlier : undefined;
    if ("error" in result.outcome) {
      const since = unreachableBefore.get(result.tag)?.since ?? context.now;
      unreachable.push({ tag: result.tag, error: result.outcome.error, since });
      if (samePin !== undefined) moved.push({ ...samePin, unreachable: result.outcome.error });
      continue;
    }
    const { digest } = result.outcome;
    if (digest === result.pinned) continue;
    if (samePin?.current === digest) {
      moved.push({ ...samePin, lastChecked: context.now, unreachable: undefined });
      continue;
    }
    const entry: MovedTag = {
      tag: result.tag,
      pinned: result.pinned,
      current: digest,
      firstSeen: samePin?.firstSeen ?? context.now,
      lastChecked: context.now,
      workloads: samePin?.workloads ?? [],
    };
    moved.push(entry);
    news.push(entry);
  }
  const byTag = (a: { tag: string }, b: { tag: string }) => (a.tag < b.tag ? -1 : 1);
  return {
    report: {
      scannedAt: context.now,
      scannedBy: context.by,
      checked: results.length,
      moved: moved.sort(byTag),
      unreachable: unreachable.sort(byTag),
    },
    news,
  };
}

/** Seconds since the oldest moved tag was first seen (0 when none moved). */
export function oldestMovedSeconds(report: DriftReport, nowMs: number): number {
  const times = report.moved.map((entry) => Date.parse(entry.firstSeen)).filter(Number.isFinite);
  return times.length === 0 ? 0 : Math.max(0, (nowMs - Math.min(...times)) / 1000);
}

const HEADER =
  "# digestpin drift report: pinned tags whose registry digest moved, written by the scan\n" +
  "# leader every driftScan.interval (docs/drift.md). Read it with `digestpin drift`.\n";

/** The report as the ConfigMap holds it (YAML, keys in a fixed order, no empty optionals). */
export function renderReport(report: DriftReport): string {
  const plain = JSON.parse(JSON.stringify(report)) as unknown;
  return HEADER + stringify(plain, { lineWidth: 0 });
}

/** The report from its ConfigMap text; a string says what is wrong with it. */
export function parseReport(text: string): DriftReport | string {
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    return `not YAML: ${(error as Error).message.split("\n")[0] ?? ""}`;
  }
  if (!isRecord(value)) return "not a mapping";
  const moved = value.moved ?? [];
  const unreachable = value.unreachable ?? [];
  if (!Array.isArray(moved) || !moved.every(isMovedTag)) return "moved: not a list of moved tags";
  if (!Array.isArray(unreachable) || !unreachable.every(isUnreachable))
    return "unreachable: not a list of tags";
  return {
    scannedAt: typeof value.scannedAt === "string" ? value.scannedAt : "",
    scannedBy: typeof value.scannedBy === "string" ? value.scannedBy : "",
    checked: typeof value.checked === "number" ? value.checked : 0,
    moved: moved.map((entry) => ({ ...entry, workloads: entry.workloads })),
    unreachable,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isMovedTag(value: unknown): value is MovedTag {
  if (!isRecord(value)) return false;
  const strings = ["tag", "pinned", "current", "firstSeen", "lastChecked"];
  return (
    strings.every((key) => typeof value[key] === "string") &&
    Array.isArray(value.workloads) &&
    value.workloads.every(
      (w: unknown) =>
        isRecord(w) &&
        typeof w.namespace === "string" &&
        typeof w.kind === "string" &&
        typeof w.name === "string" &&
        Array.isArray(w.running),
    )
  );
}

function isUnreachable(value: unknown): value is UnreachableTag {
  return (
    isRecord(value) &&
    typeof value.tag === "string" &&
    typeof value.error === "string" &&
    typeof value.since === "string"
  );
}

/** `sha256:0123456789ab` */
export function shortDigest(digest: string): string {
  const colon = digest.indexOf(":");
  return digest.slice(0, colon + 13);
}

/** `Deployment shop/web` (and the digests it runs when they are not the pin). */
export function workloadText(workload: Workload): string {
  return `${workload.kind} ${workload.namespace}/${workload.name}`;
}

/**
 * The report as a table for people: one row per moved tag, its affected workloads below it,
 * then the tags that could not be checked.
 */
export function reportTable(report: DriftReport): string[] {
  if (report.moved.length === 0 && report.unreachable.length === 0)
    return [`no pinned tag moved (${report.checked} checked at ${report.scannedAt || "never"})`];
  const rows = report.moved.map((entry) => [
    entry.tag,
    shortDigest(entry.pinned),
    shortDigest(entry.current),
    entry.firstSeen,
    entry.unreachable === undefined ? entry.lastChecked : `unreachable`,
  ]);
  const header = ["TAG", "PINNED", "REGISTRY", "FIRST SEEN", "LAST CHECKED"];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0),
      )
      .join("  ");
  const lines: string[] = [];
  if (report.moved.length > 0) {
    lines.push(line(header));
    for (const [index, entry] of report.moved.entries()) {
      lines.push(line(rows[index] ?? []));
      if (entry.change !== undefined) lines.push(`  change   ${entry.change.summary}`);
      const files = entry.change?.files;
      if (typeof files === "string") lines.push(`  files    ${files}`);
      else if (files !== undefined)
        lines.push(
          `  files    ${files.added} added, ${files.removed} removed, ${files.changed} changed${files.paths.length > 0 ? `: ${files.paths.join(", ")}` : ""}`,
        );
      if (entry.unreachable !== undefined) lines.push(`  unreachable  ${entry.unreachable}`);
      if (entry.workloads.length === 0) lines.push("  used by  no workload");
      for (const workload of entry.workloads) {
        const runs =
          workload.running.length === 0
            ? ""
            : `  runs ${workload.running.map((digest) => (digest === entry.pinned ? "the pin" : digest === entry.current ? "the new digest" : shortDigest(digest))).join(", ")}`;
        lines.push(`  used by  ${workloadText(workload)}${runs}`);
      }
    }
  }
  if (report.unreachable.length > 0) {
    if (lines.length > 0) lines.push("");
    lines.push(
      `could not check ${report.unreachable.length} tag${report.unreachable.length === 1 ? "" : "s"}:`,
    );
    for (const entry of report.unreachable)
      lines.push(`  ${entry.tag}: ${entry.error} (since ${entry.since})`);
  }
  lines.push(
    "",
    `${report.moved.length} moved of ${report.checked} checked at ${report.scannedAt} by ${report.scannedBy}`,
  );
  return lines;
}
