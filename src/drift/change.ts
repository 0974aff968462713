import { describePrefix, treeFindings } from "../layers/index.ts";
import type { ManifestTree } from "../registry/index.ts";
import type { ChangeSummary } from "./report.ts";

const SUMMARY_LIMIT = 500;

/**
 * How the image a tag moved to relates to its pin, from both manifest trees (no layer is
 * downloaded): per platform how the layers relate (`the pinned image's 2 layers with 1 layer
 * added on top`, `base layers changed: …`), platforms new or gone, and the layers added and
 * removed in all. Pure.
 */
export function summarizeChange(pinned: ManifestTree, current: ManifestTree): ChangeSummary {
  const findings = treeFindings(pinned, current);
  const parts = findings.map((finding) => `${finding.platform}: ${describePrefix(finding)}`);
  if (pinned.index || current.index) {
    const platforms = (tree: ManifestTree) =>
      new Set(tree.images.map((image) => image.platform ?? "unknown"));
    const [before, after] = [platforms(pinned), platforms(current)];
    for (const platform of after)
      if (!before.has(platform)) parts.push(`${platform}: new platform`);
    for (const platform of before)
      if (!after.has(platform)) parts.push(`${platform}: platform gone`);
  }
  const summary = parts.join("; ") || "the manifest changed";
  return {
    summary: summary.length > SUMMARY_LIMIT ? `${summary.slice(0, SUMMARY_LIMIT - 1)}…` : summary,
    layersAdded: findings.reduce((sum, f) => sum + f.currentLayers - f.shared, 0),
    layersRemoved: findings.reduce((sum, f) => sum + f.pinnedLayers - f.shared, 0),
  };
}
