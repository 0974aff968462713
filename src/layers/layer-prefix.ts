import type { ManifestTree, TreeImage } from "../registry/index.ts";

/**
 * How the current image's layers relate to the pinned image's, by digest from the bottom: an
 * image built FROM another starts with all of that image's layers, so a current image that no
 * longer starts with the pinned image's base layers was built on something else.
 */
export type PrefixVerdict =
  /** The same layers (only the config or the manifest changed). */
  | "same-layers"
  /** All the pinned layers, and more on top (the seed attack: one layer added). */
  | "added-on-top"
  /** Only the pinned image's top layer differs. */
  | "top-changed"
  /** The declared base's layers are unchanged; some layers above them differ. */
  | "above-base-changed"
  /** A layer below the top (or of the declared base) differs. */
  | "base-changed";

export interface PrefixFinding {
  readonly platform: string;
  readonly pinnedLayers: number;
  readonly currentLayers: number;
  /** How many bottom layers both have, digest for digest. */
  readonly shared: number;
  /** How many layers the pinned image's declared base has, when known. */
  readonly baseLayers: number | undefined;
  readonly verdict: PrefixVerdict;
}

export function comparePrefix(
  platform: string,
  pinned: readonly string[],
  current: readonly string[],
  baseLayers?: number,
): PrefixFinding {
  let shared = 0;
  while (shared < pinned.length && shared < current.length && pinned[shared] === current[shared])
    shared++;
  const verdict = ((): PrefixVerdict => {
    if (shared === pinned.length) return shared === current.length ? "same-layers" : "added-on-top";
    if (baseLayers !== undefined && baseLayers <= pinned.length)
      return shared >= baseLayers ? "above-base-changed" : "base-changed";
    return shared >= pinned.length - 1 ? "top-changed" : "base-changed";
  })();
  return {
    platform,
    pinnedLayers: pinned.length,
    currentLayers: current.length,
    shared,
    baseLayers: baseLayers !== undefined && baseLayers <= pinned.length ? baseLayers : undefined,
    verdict,
  };
}

const layers = (n: number) => `${n} layer${n === 1 ? "" : "s"}`;

/** One finding in words, e.g. "base layers changed: the current image shares only 1 of …". */
export function describePrefix(finding: PrefixFinding): string {
  const { pinnedLayers, currentLayers, shared, baseLayers } = finding;
  switch (finding.verdict) {
    case "same-layers":
      return `the same ${layers(pinnedLayers)}; only the image config differs`;
    case "added-on-top":
      return `the pinned image's ${layers(pinnedLayers)} with ${layers(currentLayers - shared)} added on top`;
    case "top-changed":
      return pinnedLayers === 1
        ? "the pinned image's only layer differs"
        : `the same lower layers; the top layer differs (${shared} of ${layers(pinnedLayers)} shared)`;
    case "above-base-changed":
      return `the base's ${layers(baseLayers ?? shared)} are unchanged; layers above them differ (${shared} of ${layers(pinnedLayers)} shared)`;
    case "base-changed": {
      const base = baseLayers === undefined ? "" : ` (its declared base has ${layers(baseLayers)})`;
      return `base layers changed: the current image shares only the first ${shared} of the pinned image's ${layers(pinnedLayers)}${base}`;
    }
  }
}

/**
 * A short note for a drift message over every platform: "base layers changed" first, naming
 * the platforms, else what the first platform shows.
 */
export function prefixNote(findings: readonly PrefixFinding[]): string | undefined {
  const changed = findings.filter((finding) => finding.verdict === "base-changed");
  const [first] = changed.length > 0 ? changed : findings;
  if (first === undefined) return undefined;
  const where =
    findings.length > 1
      ? ` (${first.platform}${changed.length > 1 ? ` and ${changed.length - 1} more` : ""})`
      : "";
  const text = describePrefix(first);
  return `Layers${where}: ${text}.`;
}

/** The platform images of two manifest trees, matched (a lone image with a lone image). */
export function matchImages(
  pinned: ManifestTree,
  current: ManifestTree,
): { platform: string; pinned: TreeImage; current: TreeImage }[] {
  if (!pinned.index && !current.index) {
    const [before] = pinned.images;
    const [after] = current.images;
    return before === undefined || after === undefined
      ? []
      : [{ platform: after.platform ?? "image", pinned: before, current: after }];
  }
  return current.images.flatMap((after) => {
    const before = pinned.images.find((image) => image.platform === after.platform);
    return before === undefined || after.platform === undefined
      ? []
      : [{ platform: after.platform, pinned: before, current: after }];
  });
}

/** How many layers `base` has for `platform` (a lone base image: its own). */
export function baseLayerCount(
  base: ManifestTree | undefined,
  platform: string,
): number | undefined {
  if (base === undefined) return undefined;
  const image = base.index ? base.images.find((i) => i.platform === platform) : base.images[0];
  return image?.layers.length;
}

/** The prefix findings of every platform both trees have. */
export function treeFindings(
  pinned: ManifestTree,
  current: ManifestTree,
  base?: ManifestTree,
): PrefixFinding[] {
  return matchImages(pinned, current).map((pair) =>
    comparePrefix(
      pair.platform,
      pair.pinned.layers.map((layer) => layer.digest),
      pair.current.layers.map((layer) => layer.digest),
      baseLayerCount(base, pair.platform),
    ),
  );
}
