import type { TarEntry } from "./tar-reader.ts";

/** What one layer does to the filesystem below it, per the OCI image spec's layer rules. */
export interface LayerChanges {
  /** Paths a whiteout (`.wh.NAME`) deletes from the layers below, with what is under them. */
  readonly whiteouts: string[];
  /** Directories whose contents from the layers below are hidden (`.wh..wh..opq`). */
  readonly opaques: string[];
  /** Entries the layer writes, in archive order (a later one for a path wins). */
  readonly entries: { readonly path: string; readonly entry: TarEntry }[];
}

const OPAQUE = ".wh..wh..opq";
const WHITEOUT = ".wh.";
/** `.wh..wh.*` names other than the opaque marker are AUFS bookkeeping, not files. */
const AUFS_META = ".wh..wh.";

/**
 * `/`-rooted, without `.`, empty components or a trailing slash; `..` cannot climb above the
 * root (as a careful extractor treats it).
 */
export function normalizePath(name: string): string {
  const parts: string[] = [];
  for (const part of name.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

/** `/a/b` → `/a`; `/a` → `/`. */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? "/" : path.slice(0, slash);
}

export function joinPath(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}

/**
 * Collects a layer's changes from its tar entries. Whiteout files are turned into deletions and
 * never become entries; `keep` decides which other entries are kept (all by default), so the
 * layers below the ones being compared are only remembered where it matters.
 */
export function collectChanges(keep: (path: string) => boolean = () => true): {
  readonly changes: LayerChanges;
  readonly onEntry: (entry: TarEntry) => void;
} {
  const changes: LayerChanges = { whiteouts: [], opaques: [], entries: [] };
  const onEntry = (entry: TarEntry): void => {
    const path = normalizePath(entry.path);
    const slash = path.lastIndexOf("/");
    const name = path.slice(slash + 1);
    if (name.startsWith(WHITEOUT)) {
      const dir = parentOf(path);
      if (name === OPAQUE) changes.opaques.push(dir);
      else if (!name.startsWith(AUFS_META)) {
        changes.whiteouts.push(joinPath(dir, name.slice(WHITEOUT.length)));
      }
      return;
    }
    if (!keep(path)) {
      // Not remembered, but a non-directory still replaces whatever was at its path.
      if (entry.type !== "dir") changes.whiteouts.push(path);
      return;
    }
    const linkname = entry.type === "hardlink" ? normalizePath(entry.linkname) : entry.linkname;
    changes.entries.push({ path, entry: { ...entry, path, linkname } });
  };
  return { changes, onEntry };
}
