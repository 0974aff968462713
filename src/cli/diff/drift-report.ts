// `digestpin diff` reuses the change the drift scan leader computed (report ConfigMap
// digestpin-drift) when it is about the same pin and new digest: no layer downloaded again.
import type { KubeConfig } from "@kubernetes/client-node";
import { ReportStore, type ChangeSummary, type MovedTag } from "../../drift/index.ts";

/** The report's entry for a tag and the change it holds. */
export interface ReportedChange {
  readonly entry: MovedTag;
  readonly change: ChangeSummary;
}

/**
 * The change the drift report holds for `key` moved from `pinned` to `current`; undefined when
 * there is none to reuse (no report, no entry, another pin or digest: stale, no summary). An
 * unreadable report is undefined too, with `warn` told why.
 */
export async function reportedChange(
  kubeConfig: KubeConfig,
  namespace: string,
  query: { readonly key: string; readonly pinned: string; readonly current: string },
  warn: (message: string) => void,
): Promise<ReportedChange | undefined> {
  let report;
  try {
    report = await new ReportStore(kubeConfig, namespace).read();
  } catch (error) {
    warn(
      `the drift report could not be read (${error instanceof Error ? error.message : String(error)}); comparing anew`,
    );
    return undefined;
  }
  const entry = report?.moved.find((moved) => moved.tag === query.key);
  if (entry?.pinned !== query.pinned || entry.current !== query.current) return undefined;
  return entry.change === undefined ? undefined : { entry, change: entry.change };
}

/** Whether the report compared the files (not only the layers, and not skipped as too large). */
export function hasFiles(reported: ReportedChange | undefined): boolean {
  return typeof reported?.change.files === "object";
}

/** The `change` block: the report's summary, and where it comes from, in one line. */
export function reportedLines(reported: ReportedChange, withFiles: boolean): string[] {
  const { change, entry } = reported;
  const when = change.computedAt ?? `by the scan of ${entry.firstSeen} or a later one`;
  const lines = [
    `change (from the drift report, computed ${when})`,
    `  summary  ${change.summary}`,
    `  layers   ${change.layersAdded} added, ${change.layersRemoved} removed`,
  ];
  const { files } = change;
  if (typeof files === "string") lines.push(`  files    ${files}`);
  else if (files !== undefined) {
    const listed = files.paths.length;
    const total = files.added + files.removed + files.changed;
    lines.push(
      `  files    ${files.added} added, ${files.removed} removed, ${files.changed} changed${listed > 0 ? `: ${files.paths.join(", ")}` : ""}`,
    );
    if (withFiles)
      lines.push(
        `  ${listed < total ? `the first ${listed} of ${total} paths; ` : ""}--fresh downloads the layers and compares every file anew`,
      );
  }
  return lines;
}

/** The report's change for `diff --json` (null when it was not used). */
export function reportedJson(reported: ReportedChange | undefined): unknown {
  if (reported === undefined) return null;
  const { change } = reported;
  return {
    computedAt: change.computedAt ?? null,
    summary: change.summary,
    layersAdded: change.layersAdded,
    layersRemoved: change.layersRemoved,
    files: change.files ?? null,
  };
}
