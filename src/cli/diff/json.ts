import {
  describePrefix,
  type FileChange,
  type PrefixFinding,
  type TarEntry,
} from "../../layers/index.ts";
import type { PinRecord } from "../../policy/index.ts";
import type { PlatformImage } from "../../registry/index.ts";
import { chainJson, type BaseChain } from "../base-chain.ts";
import type { ImageDiff, PlatformDiff } from "./compare.ts";
import { countsOf, modeText } from "./files-report.ts";
import { reportedJson, type ReportedChange } from "./drift-report.ts";
import type { PlatformFiles } from "./files.ts";

export interface DiffJsonInput {
  readonly key: string;
  readonly pin: PinRecord;
  readonly current: string;
  readonly chains: { readonly pinned: BaseChain; readonly current: BaseChain };
  readonly pinnedUnreadable?: string;
  readonly comparison?: ImageDiff;
  readonly layering?: ReadonlyMap<string, PrefixFinding>;
  readonly files?: readonly PlatformFiles[];
  /** The drift report's change, when it was reused (see drift-report.ts). */
  readonly reported?: ReportedChange;
}

/** `digestpin diff --json`: everything the text shows, for machines. Layer indexes are 0-based. */
export function diffJson(input: DiffJsonInput): unknown {
  const { pin } = input;
  return {
    reference: input.key,
    pinned: {
      digest: pin.digest,
      pinnedAt: pin.pinnedAt ?? null,
      pinnedBy: pin.pinnedBy ?? null,
      reason: pin.reason ?? null,
    },
    current: input.current,
    moved: input.current !== pin.digest,
    pinnedUnreadable: input.pinnedUnreadable ?? null,
    bases: { pinned: chainJson(input.chains.pinned), current: chainJson(input.chains.current) },
    driftReport: reportedJson(input.reported),
    platforms: (input.comparison?.platforms ?? []).map((platform) =>
      platformJson(
        platform,
        input.layering?.get(platform.platform),
        input.files?.find((files) => files.platform === platform.platform),
      ),
    ),
  };
}

function platformJson(
  platform: PlatformDiff,
  layering: PrefixFinding | undefined,
  files: PlatformFiles | undefined,
): unknown {
  const { pinned, current } = platform;
  const status =
    pinned === undefined
      ? "new"
      : current === undefined
        ? "gone"
        : pinned.digest === current.digest
          ? "unchanged"
          : "changed";
  return {
    platform: platform.platform,
    status,
    pinned: imageJson(pinned),
    current: imageJson(current),
    layers: platform.layers.map(({ digest, size, change }) => ({ digest, size, change })),
    layering:
      layering === undefined
        ? null
        : {
            verdict: layering.verdict,
            shared: layering.shared,
            pinnedLayers: layering.pinnedLayers,
            currentLayers: layering.currentLayers,
            baseLayers: layering.baseLayers ?? null,
            text: describePrefix(layering),
          },
    files: files === undefined ? null : filesJson(files),
  };
}

function imageJson(image: PlatformImage | undefined): unknown {
  if (image === undefined) return null;
  return {
    platform: image.platform,
    manifest: image.digest,
    config: image.configDigest,
    created: image.created ?? null,
  };
}

function filesJson(files: PlatformFiles): unknown {
  if (files.skipped !== undefined) return { compared: false, skipped: files.skipped };
  const changes = files.diff?.changes ?? [];
  const layerOf = (change: FileChange) => {
    const layers = change.origin.side === "current" ? files.plan?.current : files.plan?.pinned;
    return {
      side: change.origin.side,
      index: change.origin.layer,
      digest: layers?.[change.origin.layer]?.digest ?? null,
    };
  };
  return {
    compared: true,
    counts: countsOf(changes),
    sharedLayers: files.diff?.sharedLayers ?? null,
    sharedLayerCount: files.plan?.shared ?? 0,
    downloaded: files.downloaded,
    layersRead: files.layersRead,
    changes: changes.map((change) => ({
      kind: change.kind,
      path: change.path,
      differences: change.differences,
      layer: layerOf(change),
      before: entryJson(change.before),
      after: entryJson(change.after),
      ...(change.subtree === true && { subtree: true }),
    })),
  };
}

function entryJson(entry: TarEntry | undefined): unknown {
  if (entry === undefined) return null;
  return {
    type: entry.type,
    mode: modeText(entry.mode),
    uid: entry.uid,
    gid: entry.gid,
    size: entry.size,
    ...(entry.linkname !== "" && { target: entry.linkname }),
    ...(entry.digest !== undefined && { digest: entry.digest }),
    ...((entry.type === "char" || entry.type === "block") && {
      device: `${entry.devmajor},${entry.devminor}`,
    }),
    ...(entry.xattrs !== undefined && { xattrs: entry.xattrs }),
  };
}
