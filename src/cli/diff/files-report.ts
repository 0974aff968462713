import type {
  ChangeKind,
  Difference,
  FileChange,
  StackPlan,
  TarEntry,
} from "../../layers/index.ts";
import type { PlatformFiles } from "./files.ts";
import { formatSize } from "./report.ts";

const MARK: Readonly<Record<ChangeKind, string>> = {
  added: "+",
  removed: "-",
  changed: "~",
  unknown: "?",
};

/** At most this many paths per platform in text; `--json` has them all. */
export const TEXT_PATHS = 1000;

/** `2 added, 1 removed, 0 changed` (and unknown ones when there are). */
export function countsOf(changes: readonly FileChange[]): Record<ChangeKind, number> {
  const counts: Record<ChangeKind, number> = { added: 0, removed: 0, changed: 0, unknown: 0 };
  for (const change of changes) counts[change.kind]++;
  return counts;
}

export function countsText(changes: readonly FileChange[]): string {
  const counts = countsOf(changes);
  const unknown = counts.unknown > 0 ? `, ${counts.unknown} unknown` : "";
  return `${counts.added} added, ${counts.removed} removed, ${counts.changed} changed${unknown}`;
}

/** The `files` lines of one platform's block. */
export function filesLines(files: PlatformFiles): string[] {
  const title = `files of ${files.platform}:`;
  if (files.skipped !== undefined) return [`${title} not compared (${files.skipped})`];
  const { diff, plan } = files;
  if (diff === undefined || plan === undefined) return [];
  const shared = plan.shared === 0 ? "" : `; ${sharedText(plan.shared, diff.sharedLayers)}`;
  const read = `read ${files.layersRead} layer${files.layersRead === 1 ? "" : "s"}, ${formatSize(files.downloaded)}${shared}`;
  const lines = [`${title} ${countsText(diff.changes)} (${read})`];
  for (const change of diff.changes.slice(0, TEXT_PATHS)) {
    lines.push(`  ${changeLine(change, plan)}`);
  }
  if (diff.changes.length > TEXT_PATHS) {
    lines.push(`  … and ${diff.changes.length - TEXT_PATHS} more (--json lists them all)`);
  }
  return lines;
}

function sharedText(count: number, state: string): string {
  const layers = `${count} shared layer${count === 1 ? "" : "s"}`;
  switch (state) {
    case "read":
      return `${layers} read for what the changed paths were before`;
    case "skipped":
      return `${layers} not read (--shared skip): ? marks what depends on them`;
    default:
      return `${layers} not needed`;
  }
}

/** `+ /harmful  file 0644 0:0 4 B  (current layer 2/2)`. */
export function changeLine(change: FileChange, plan: StackPlan): string {
  const count = change.origin.side === "current" ? plan.current.length : plan.pinned.length;
  const layer = `${change.origin.side} layer ${change.origin.layer + 1}/${count}`;
  const head = `${MARK[change.kind]} ${change.path}`;
  switch (change.kind) {
    case "added":
      return `${head}  ${describeEntry(change.after)}  (${from(change, layer)})`;
    case "removed":
      return `${head}  ${describeEntry(change.before)}  (${from(change, layer)})`;
    case "changed":
      return `${head}  ${change.differences.map((d) => differenceText(d, change)).join("; ")}  (${from(change, layer)})`;
    case "unknown": {
      const what =
        change.subtree === true
          ? "deleted, with everything below it,"
          : change.after !== undefined || change.before !== undefined
            ? `${describeEntry(change.after ?? change.before)} written`
            : "deleted";
      return `${head}  ${what} by ${layer}; the shared layers were not read to tell what it was before`;
    }
  }
}

function from(change: FileChange, layer: string): string {
  if (change.origin.side === "current") return layer;
  return `${layer}, which the current image does not have`;
}

/** `file 0644 0:0 12 B`, `symlink 0777 0:0 → target`, `dir 0755 1000:1000`. */
export function describeEntry(entry: TarEntry | undefined): string {
  if (entry === undefined) return "";
  const owner = `${entry.uid}:${entry.gid}`;
  const mode = modeText(entry.mode);
  switch (entry.type) {
    case "file":
      return `file ${mode} ${owner} ${formatSize(entry.size)}`;
    case "symlink":
    case "hardlink":
      return `${entry.type} ${mode} ${owner} → ${entry.linkname}`;
    case "char":
    case "block":
      return `${entry.type} ${entry.devmajor},${entry.devminor} ${mode} ${owner}`;
    default:
      return `${entry.type} ${mode} ${owner}`;
  }
}

function differenceText(difference: Difference, change: FileChange): string {
  const { before, after } = change;
  if (before === undefined || after === undefined) return difference;
  switch (difference) {
    case "type":
      return `type ${before.type} → ${after.type}`;
    case "size":
      return `size ${formatSize(before.size)} → ${formatSize(after.size)}`;
    case "content":
      return `content ${(before.digest ?? "").slice(0, 19)}… → ${(after.digest ?? "").slice(0, 19)}… (same size)`;
    case "mode":
      return `mode ${modeText(before.mode)} → ${modeText(after.mode)}`;
    case "owner":
      return `owner ${before.uid}:${before.gid} → ${after.uid}:${after.gid}`;
    case "target":
      return `target ${before.linkname} → ${after.linkname}`;
    case "device":
      return `device ${before.devmajor},${before.devminor} → ${after.devmajor},${after.devminor}`;
    case "xattrs":
      return `xattrs ${xattrChanges(before, after)}`;
  }
}

function xattrChanges(before: TarEntry, after: TarEntry): string {
  const a = before.xattrs ?? {};
  const b = after.xattrs ?? {};
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return names
    .flatMap((name) => {
      if (!(name in a)) return [`+${name}`];
      if (!(name in b)) return [`-${name}`];
      return a[name] === b[name] ? [] : [`~${name}`];
    })
    .join(" ");
}

/** `0755`, `4755`. */
export function modeText(mode: number): string {
  return mode.toString(8).padStart(4, "0");
}
