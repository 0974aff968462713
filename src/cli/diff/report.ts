import { provenance, type PinRecord } from "../../policy/index.ts";
import type { ImageDiff, LayerChange, PlatformDiff } from "./compare.ts";

const MARK = { unchanged: "=", added: "+", removed: "-" } as const;

/** `1.2 KiB`, `3.4 MiB`. */
export function formatSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit] ?? ""}`;
}

/** The header: the pin, and what the registry serves now. */
export function headerLines(pin: PinRecord, current: string): string[] {
  const state =
    current === pin.digest
      ? `${pin.key}: unchanged, the registry serves the pinned digest`
      : `${pin.key}: the tag moved`;
  return [state, `  pinned    ${pin.digest}  (${provenance(pin)})`, `  registry  ${current}`];
}

/** Per platform: manifest digests, created times, and the layers that differ, with sizes. */
export function platformLines(diff: ImageDiff): string[] {
  return diff.platforms.flatMap((platform) => ["", ...platformBlock(platform)]);
}

function platformBlock(diff: PlatformDiff): string[] {
  const { pinned, current } = diff;
  if (pinned === undefined) return [`${diff.platform}: new platform`, ...imageLines(diff)];
  if (current === undefined) return [`${diff.platform}: gone (only in the pinned image)`];
  if (pinned.digest === current.digest) {
    return [`${diff.platform}: unchanged ${current.digest}`];
  }
  const created =
    pinned.created === current.created
      ? `  created   ${current.created ?? "(not recorded)"} (unchanged)`
      : `  created   ${pinned.created ?? "(not recorded)"} → ${current.created ?? "(not recorded)"}`;
  return [
    diff.platform,
    `  manifest  ${pinned.digest} → ${current.digest}`,
    `  config    ${pinned.configDigest} → ${current.configDigest}`,
    created,
    ...imageLines(diff),
  ];
}

function imageLines(diff: PlatformDiff): string[] {
  const count = (change: LayerChange["change"]) => {
    const layers = diff.layers.filter((layer) => layer.change === change);
    const size = layers.reduce((sum, layer) => sum + layer.size, 0);
    return `${layers.length} ${change} (${formatSize(size)})`;
  };
  return [
    `  layers    ${count("unchanged")}, ${count("added")}, ${count("removed")}`,
    ...diff.layers.map(
      (layer) => `    ${MARK[layer.change]} ${layer.digest}  ${formatSize(layer.size)}`,
    ),
  ];
}
