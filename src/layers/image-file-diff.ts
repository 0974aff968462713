import type { FileChange, Side } from "./file-compare.ts";
import { collectChanges, normalizePath, type LayerChanges } from "./layer-changes.ts";
import { compareOverlays, finishComparison } from "./overlay-diff.ts";
import { Overlay } from "./overlay.ts";
import type { LayerRef } from "./read-layer.ts";
import type { TarEntry } from "./tar-reader.ts";

/** The layers of two images of one platform, split into the shared bottom and the rest. */
export interface StackPlan {
  readonly pinned: readonly LayerRef[];
  readonly current: readonly LayerRef[];
  /** How many bottom layers both images have: the same digests in the same order. */
  readonly shared: number;
}

export function planStacks(pinned: readonly LayerRef[], current: readonly LayerRef[]): StackPlan {
  let shared = 0;
  while (
    shared < pinned.length &&
    shared < current.length &&
    pinned[shared]?.digest === current[shared]?.digest
  )
    shared++;
  return { pinned, current, shared };
}

/** The layers of a plan that differ: the pinned and current ones above the shared bottom. */
export function changedLayers(plan: StackPlan): LayerRef[] {
  const seen = new Set<string>();
  return [...plan.pinned.slice(plan.shared), ...plan.current.slice(plan.shared)].filter(
    (layer) => !seen.has(layer.digest) && seen.add(layer.digest),
  );
}

/** Which layer is being read: a side's own (index in that image) or a shared one. */
export interface LayerRole {
  readonly side: Side | "shared";
  readonly index: number;
}

/** Streams one layer's tar entries to `onEntry`, hashing the files `hash` names. */
export type ReadEntries = (
  layer: LayerRef,
  role: LayerRole,
  onEntry: (entry: TarEntry) => void,
  hash: (path: string) => boolean,
) => Promise<void>;

/** Whether the shared layers are read when the answer depends on them. */
export type SharedLayers = "read" | "skip";

export interface FileDiffOptions {
  readonly read: ReadEntries;
  readonly shared: SharedLayers;
  /** Called with the shared layers' total size before they are read; may throw (a cap). */
  readonly beforeShared?: (bytes: number) => void;
}

export interface FileDiff {
  /** Sorted by path. */
  readonly changes: readonly FileChange[];
  /**
   * `not-needed`: no answer depended on the shared layers, so they were not downloaded;
   * `read`: they were, keeping only the entries of paths the changed layers touch;
   * `skipped`: they were needed but not read, and the changes that depend on them are
   * `unknown`.
   */
  readonly sharedLayers: "not-needed" | "read" | "skipped";
  /** Paths the changed layers touch that the shared layers had to answer for. */
  readonly questions: number;
}

const everything = (): boolean => true;

/**
 * The file-level difference of two images of one platform. The layers above the shared bottom
 * are streamed (each distinct digest once) and applied to two overlays; the shared layers are
 * streamed only when some path's outcome depends on them (a path one side wrote and the other
 * left alone, or a directory one side emptied), and then only the entries of those paths are
 * kept. Memory holds metadata of the changed layers' entries, never file contents.
 */
export async function diffImageFiles(plan: StackPlan, options: FileDiffOptions): Promise<FileDiff> {
  const remaining = new Map<string, number>();
  for (const layer of [...plan.pinned.slice(plan.shared), ...plan.current.slice(plan.shared)]) {
    remaining.set(layer.digest, (remaining.get(layer.digest) ?? 0) + 1);
  }
  const kept = new Map<string, LayerChanges>();
  const changesOf = async (layer: LayerRef, role: LayerRole): Promise<LayerChanges> => {
    const left = (remaining.get(layer.digest) ?? 1) - 1;
    remaining.set(layer.digest, left);
    const earlier = kept.get(layer.digest);
    if (earlier !== undefined) {
      if (left <= 0) kept.delete(layer.digest);
      return earlier;
    }
    const { changes, onEntry } = collectChanges();
    await options.read(layer, role, onEntry, everything);
    if (left > 0) kept.set(layer.digest, changes);
    return changes;
  };
  const stack = async (side: Side, layers: readonly LayerRef[]): Promise<Overlay> => {
    const overlay = new Overlay({ markers: true });
    for (let index = plan.shared; index < layers.length; index++) {
      const layer = layers[index];
      if (layer !== undefined) overlay.apply(await changesOf(layer, { side, index }), index);
    }
    return overlay;
  };
  const pinned = await stack("pinned", plan.pinned);
  const current = await stack("current", plan.current);
  const comparison = compareOverlays(pinned.root, current.root);
  const questions = comparison.questions.length + comparison.hiddenRoots.length;
  const needed = plan.shared > 0 && questions > 0;
  if (needed && options.shared === "skip") {
    const changes = finishComparison(comparison, pinned.root, current.root, undefined);
    return { changes, sharedLayers: "skipped", questions };
  }
  const base = new Map<string, TarEntry>();
  if (needed) {
    const shared = plan.current.slice(0, plan.shared);
    options.beforeShared?.(shared.reduce((sum, layer) => sum + layer.size, 0));
    const bottom = new Overlay({ markers: false });
    for (const [index, layer] of shared.entries()) {
      const { changes, onEntry } = collectChanges(comparison.needs);
      const hash = (path: string) => comparison.needs(normalizePath(path));
      await options.read(layer, { side: "shared", index }, onEntry, hash);
      bottom.apply(changes, index);
    }
    for (const placed of bottom.entries()) base.set(placed.entry.path, placed.entry);
  }
  const changes = finishComparison(comparison, pinned.root, current.root, base);
  return { changes, sharedLayers: needed ? "read" : "not-needed", questions };
}
