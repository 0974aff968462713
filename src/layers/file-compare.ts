import type { TarEntry } from "./tar-reader.ts";

/** Which of the two images a layer belongs to. */
export type Side = "pinned" | "current";

/** The layer a change comes from: its side and its index (0-based) in that image. */
export interface ChangeOrigin {
  readonly side: Side;
  readonly layer: number;
}

export type ChangeKind = "added" | "removed" | "changed" | "unknown";

/** What differs between two entries of one path. */
export type Difference =
  "type" | "size" | "content" | "mode" | "owner" | "target" | "device" | "xattrs";

/** One path whose file differs between the pinned and the current image. */
export interface FileChange {
  /**
   * `unknown`: a layer of one image wrote or deleted the path, and whether the layers both
   * images share had it was not read (`--shared skip`).
   */
  readonly kind: ChangeKind;
  readonly path: string;
  readonly before: TarEntry | undefined;
  readonly after: TarEntry | undefined;
  /** For `changed`: what differs. */
  readonly differences: readonly Difference[];
  readonly origin: ChangeOrigin;
  /** For `unknown` deletions: everything below the path is affected, not only the path. */
  readonly subtree?: boolean;
}

/** What differs between two entries of the same path; [] when they are the same file. */
export function differences(before: TarEntry, after: TarEntry): Difference[] {
  const found: Difference[] = [];
  if (before.type !== after.type) found.push("type");
  if (before.type === "file" && after.type === "file") {
    if (before.size !== after.size) found.push("size");
    else if (
      before.digest !== undefined &&
      after.digest !== undefined &&
      before.digest !== after.digest
    )
      found.push("content");
  }
  if (before.mode !== after.mode) found.push("mode");
  if (before.uid !== after.uid || before.gid !== after.gid) found.push("owner");
  if (before.linkname !== after.linkname) found.push("target");
  if (before.devmajor !== after.devmajor || before.devminor !== after.devminor)
    found.push("device");
  if (xattrText(before) !== xattrText(after)) found.push("xattrs");
  return found;
}

function xattrText(entry: TarEntry): string {
  const xattrs = entry.xattrs ?? {};
  return Object.keys(xattrs)
    .sort()
    .map((key) => `${key}=${xattrs[key] ?? ""}`)
    .join("\n");
}
