import {
  changedLayers,
  diffImageFiles,
  planStacks,
  readLayer,
  type FileChange,
} from "../layers/index.ts";
import type { LayerInfo, ManifestTree, RepositoryName, TreeImage } from "../registry/index.ts";
import type { FilesSummary } from "./report.ts";

/** Streams a layer of a repository, verified against its digest. */
export type OpenLayer = (
  name: RepositoryName,
  layer: LayerInfo,
  deadline: number,
) => Promise<AsyncIterable<Buffer>>;

/** What the scan may download to compare the files of one moved tag (all platforms). */
export const FILES_DOWNLOAD_LIMIT = 64 * 1024 * 1024;
/** Paths kept in the report per moved tag. */
const PATHS = 10;
const MARK = { added: "+", removed: "-", changed: "~", unknown: "?" } as const;

class TooLarge extends Error {}

/**
 * The files of the new image against the pinned one, as `digestpin diff --files` compares them
 * (only the layers that differ are read, the shared ones when a path needs them), within
 * `limitBytes` in all: the counts and the first paths (`+ /harmful`). A string says why the
 * files were not compared (too large to download).
 */
export async function compareImageFiles(
  name: RepositoryName,
  pinned: ManifestTree,
  current: ManifestTree,
  open: OpenLayer,
  options: { readonly deadline: number; readonly limitBytes?: number },
): Promise<FilesSummary | string> {
  const pairs = pairImages(pinned, current).filter(([a, b]) => a.digest !== b.digest);
  let budget = options.limitBytes ?? FILES_DOWNLOAD_LIMIT;
  const reserve = (bytes: number) => {
    if (bytes > budget) throw new TooLarge();
    budget -= bytes;
  };
  const changes: { platform: string; change: FileChange }[] = [];
  try {
    for (const [before, after, platform] of pairs) {
      const plan = planStacks(before.layers, after.layers);
      reserve(changedLayers(plan).reduce((sum, layer) => sum + layer.size, 0));
      const diff = await diffImageFiles(plan, {
        shared: "read",
        beforeShared: reserve,
        read: async (layer, _role, onEntry, hash) => {
          await readLayer((l) => open(name, l, options.deadline), layer, onEntry, {
            hash,
          });
        },
      });
      changes.push(...diff.changes.map((change) => ({ platform, change })));
    }
  } catch (error) {
    if (error instanceof TooLarge)
      return `not compared: the layers that differ are more than the scan reads (${String(Math.round((options.limitBytes ?? FILES_DOWNLOAD_LIMIT) / 1048576))} MiB); see digestpin diff --files`;
    throw error;
  }
  const count = (kind: FileChange["kind"]) => changes.filter((c) => c.change.kind === kind).length;
  return {
    added: count("added"),
    removed: count("removed"),
    changed: count("changed"),
    paths: changes
      .slice(0, PATHS)
      .map(
        ({ platform, change }) =>
          `${pairs.length > 1 ? `${platform} ` : ""}${MARK[change.kind]} ${change.path}`,
      ),
  };
}

/** The images of both trees to compare: two lone images, else those of the same platform. */
function pairImages(pinned: ManifestTree, current: ManifestTree): [TreeImage, TreeImage, string][] {
  if (!pinned.index && !current.index) {
    const [before] = pinned.images;
    const [after] = current.images;
    return before === undefined || after === undefined
      ? []
      : [[before, after, after.platform ?? "image"]];
  }
  return current.images.flatMap((after): [TreeImage, TreeImage, string][] => {
    const before = pinned.images.find((image) => image.platform === after.platform);
    return before === undefined || after.platform === undefined
      ? []
      : [[before, after, after.platform]];
  });
}
