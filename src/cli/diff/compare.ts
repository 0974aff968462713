import type { ImageDetails, LayerInfo, PlatformImage } from "../../registry/index.ts";

export interface LayerChange extends LayerInfo {
  readonly change: "unchanged" | "added" | "removed";
}

/** One platform's image, pinned against now. */
export interface PlatformDiff {
  readonly platform: string;
  /** undefined: the platform is new (or, for `current`, gone). */
  readonly pinned: PlatformImage | undefined;
  readonly current: PlatformImage | undefined;
  /** The current layers in order (unchanged or added), then the removed ones. */
  readonly layers: readonly LayerChange[];
}

export interface ImageDiff {
  readonly same: boolean;
  readonly platforms: readonly PlatformDiff[];
}

/**
 * What changed between the pinned image and the one the registry serves now, per platform
 * (matched by `os/architecture[/variant]`; two single-platform images are compared with each
 * other): manifests, created times and layers by digest. Pure.
 */
export function compareImages(pinned: ImageDetails, current: ImageDetails): ImageDiff {
  const same = pinned.digest === current.digest;
  const [before] = pinned.images;
  const [after] = current.images;
  if (!pinned.index && !current.index && before !== undefined && after !== undefined) {
    // Two single images: compared with each other even when their platforms differ.
    const platform =
      before.platform === after.platform
        ? after.platform
        : `${before.platform} → ${after.platform}`;
    const layers = compareLayers(before, after);
    return { same, platforms: [{ platform, pinned: before, current: after, layers }] };
  }
  const names = [...new Set([...current.images, ...pinned.images].map((image) => image.platform))];
  const platforms = names.map((platform): PlatformDiff => {
    const earlier = pinned.images.find((image) => image.platform === platform);
    const now = current.images.find((image) => image.platform === platform);
    return { platform, pinned: earlier, current: now, layers: compareLayers(earlier, now) };
  });
  return { same, platforms };
}

export function compareLayers(
  pinned: PlatformImage | undefined,
  current: PlatformImage | undefined,
): LayerChange[] {
  const remaining = new Map<string, number>();
  for (const layer of pinned?.layers ?? []) {
    remaining.set(layer.digest, (remaining.get(layer.digest) ?? 0) + 1);
  }
  const changes: LayerChange[] = [];
  for (const layer of current?.layers ?? []) {
    const left = remaining.get(layer.digest) ?? 0;
    if (left > 0) remaining.set(layer.digest, left - 1);
    changes.push({ ...layer, change: left > 0 ? "unchanged" : "added" });
  }
  for (const layer of pinned?.layers ?? []) {
    const left = remaining.get(layer.digest) ?? 0;
    if (left === 0) continue;
    remaining.set(layer.digest, left - 1);
    changes.push({ ...layer, change: "removed" });
  }
  return changes;
}
