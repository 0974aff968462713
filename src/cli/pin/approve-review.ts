import { describePrefix } from "../../layers/index.ts";
import { REVIEW_PATHS, shortDigest, type PinIndex, type PinReview } from "../../policy/index.ts";
import type { ImageReference } from "../../reference/index.ts";
import {
  compareFiles,
  compareImages,
  countsOf,
  DownloadCap,
  readChains,
  readLayering,
  type LayerProgress,
} from "../diff/index.ts";
import type { RegistrySession } from "../registry-access.ts";

export interface ReviewOptions {
  readonly platform: string | undefined;
  readonly maxDownload: number;
  readonly progress: (label: string, total: number) => LayerProgress;
}

const SUMMARY_LIMIT = 500;

/**
 * What `digestpin diff --files` would show for the change from `pinned` to `current`, as the
 * short record an approval keeps: per platform how the layers relate and the declared base's
 * standing, the counts of files added, removed and changed, and the first paths.
 */
export async function reviewChange(
  session: RegistrySession,
  reference: ImageReference,
  pins: PinIndex,
  pinned: string,
  current: string,
  options: ReviewOptions,
): Promise<PinReview> {
  const chains = await readChains(session, reference, pinned, current, pins);
  const [before, after] = await Promise.all([
    session.details(reference, pinned),
    session.details(reference, current),
  ]);
  const comparison = compareImages(before, after);
  const layering = await readLayering(session, comparison, chains.pinned);
  const parts: string[] = [];
  for (const { platform, pinned: was, current: now } of comparison.platforms) {
    if (was === undefined) parts.push(`${platform}: new platform`);
    else if (now === undefined) parts.push(`${platform}: platform gone`);
    else {
      const finding = layering.get(platform);
      if (finding !== undefined) parts.push(`${platform}: ${describePrefix(finding)}`);
    }
  }
  for (const status of chains.current.levels[0] ?? []) {
    const digest = status.base.digest === undefined ? "" : `@${shortDigest(status.base.digest)}`;
    parts.push(`base ${status.base.name}${digest}: ${status.state}`);
  }
  const files = await compareFiles(session, reference, comparison, {
    platform: options.platform,
    shared: "read", // evidence is exact: no "?" paths
    cap: new DownloadCap(options.maxDownload),
    progress: options.progress,
  });
  const compared = files.filter((result) => result.diff !== undefined);
  const changes = compared.flatMap((result) =>
    (result.diff?.changes ?? []).map((change) => ({ platform: result.platform, change })),
  );
  const counts = countsOf(changes.map(({ change }) => change));
  const mark = { added: "+", removed: "-", changed: "~", unknown: "?" };
  const paths = changes
    .slice(0, REVIEW_PATHS)
    .map(
      ({ platform, change }) =>
        `${compared.length > 1 ? `${platform} ` : ""}${mark[change.kind]} ${change.path}`,
    );
  const summary = parts.join("; ");
  return {
    summary: summary.length > SUMMARY_LIMIT ? `${summary.slice(0, SUMMARY_LIMIT - 1)}…` : summary,
    added: counts.added,
    removed: counts.removed,
    changed: counts.changed,
    ...(paths.length > 0 && { paths }),
  };
}
