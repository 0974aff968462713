import {
  changedLayers,
  diffImageFiles,
  planStacks,
  readLayer,
  type FileDiff,
  type SharedLayers,
  type StackPlan,
} from "../../layers/index.ts";
import type { RepositoryName } from "../../registry/index.ts";
import type { RegistrySession } from "../registry-access.ts";
import type { ImageDiff } from "./compare.ts";
import type { DownloadCap } from "./download-cap.ts";
import type { LayerProgress } from "./download-progress.ts";

export interface FilesOptions {
  /** Compare only this platform (`os/arch[/variant]`). */
  readonly platform: string | undefined;
  readonly shared: SharedLayers;
  readonly cap: DownloadCap;
  readonly progress: (label: string, total: number) => LayerProgress;
}

/** The file-level comparison of one platform, or why there is none. */
export interface PlatformFiles {
  readonly platform: string;
  readonly skipped?: string;
  readonly plan?: StackPlan;
  readonly diff?: FileDiff;
  /** Compressed bytes read for this platform. */
  readonly downloaded: number;
  readonly layersRead: number;
}

/**
 * `diff --files`: per platform that changed, the files of the pinned image against the
 * current one (see diffImageFiles), reading layers through the session (the user's
 * credentials, digest-verified) within the download cap, with progress on stderr.
 */
export async function compareFiles(
  session: RegistrySession,
  name: RepositoryName,
  comparison: ImageDiff,
  options: FilesOptions,
): Promise<PlatformFiles[]> {
  const results: PlatformFiles[] = [];
  for (const platform of comparison.platforms) {
    if (
      options.platform !== undefined &&
      !platform.platform.split(" → ").includes(options.platform)
    )
      continue;
    const { pinned, current } = platform;
    const skip = (skipped: string) => {
      results.push({ platform: platform.platform, skipped, downloaded: 0, layersRead: 0 });
    };
    if (pinned === undefined) skip("a new platform: every file is new");
    else if (current === undefined) skip("gone from the current image");
    else if (pinned.digest === current.digest) skip("unchanged");
    else {
      const plan = planStacks(pinned.layers, current.layers);
      const changed = changedLayers(plan);
      const changedBytes = changed.reduce((sum, layer) => sum + layer.size, 0);
      options.cap.reserve(
        changedBytes,
        `reading the ${changed.length} changed layer${changed.length === 1 ? "" : "s"} of ${platform.platform}`,
      );
      let downloaded = 0;
      let layersRead = 0;
      const diff = await diffImageFiles(plan, {
        shared: options.shared,
        beforeShared: (bytes) => {
          options.cap.reserve(
            bytes,
            `reading the ${plan.shared} shared layer${plan.shared === 1 ? "" : "s"} of ${platform.platform} (what the changed paths were before)`,
          );
        },
        read: async (layer, role, onEntry, hash) => {
          const count = role.side === "current" ? plan.current.length : plan.pinned.length;
          const label = `${platform.platform} ${role.side} layer ${role.index + 1}/${count} ${layer.digest.slice(0, 19)}`;
          const progress = options.progress(label, layer.size);
          const read = await readLayer((l) => session.openLayer(name, l), layer, onEntry, {
            hash,
            onBytes: (bytes) => {
              downloaded += bytes;
              progress.bytes(bytes);
            },
          });
          layersRead++;
          const entries = `${read.entries} ${read.entries === 1 ? "entry" : "entries"}`;
          progress.done(`, ${entries} (${read.compression})`);
        },
      });
      results.push({ platform: platform.platform, plan, diff, downloaded, layersRead });
    }
  }
  return results;
}
