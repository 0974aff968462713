import { watch, type FSWatcher } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, dirname } from "node:path";

export interface FileWatchOptions {
  /** Quiet time after the last event before `onChange` runs (an editor writes in bursts). */
  readonly debounceMs?: number;
  /** How often the files are also stat()ed, for file systems without change events. */
  readonly pollMs?: number;
}

/**
 * Calls `onChange` after `files` may have changed. It watches their directories, not the files:
 * an editor's or Kubernetes' atomic replace (write a new file, rename it over the old one, or
 * swap a symlink) gives the path a new inode that a watch on the old one would never see. A
 * poll of each file's inode, size and mtime backs the events up. Only events that name one of
 * the files, or a name starting with ".." (the `..data` symlink Kubernetes swaps in a mounted
 * ConfigMap or Secret), count: a log or anything else written in the same directory reads no
 * file again (a 100,000-pin file would otherwise be read by the worker, and its memory spent,
 * for every line logged beside it). Returns a stop function.
 */
export function watchFiles(
  files: readonly string[],
  onChange: () => void,
  options: FileWatchOptions = {},
): () => void {
  const debounceMs = options.debounceMs ?? 100;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
    timer.unref();
  };
  const watchers: FSWatcher[] = [];
  const names = new Map<string, Set<string>>();
  for (const file of files) {
    const dir = dirname(file);
    names.set(dir, (names.get(dir) ?? new Set()).add(basename(file)));
  }
  for (const [dir, watched] of names) {
    const onEvent = (_event: string, name: string | null): void => {
      if (name === null || watched.has(name) || name.startsWith("..")) schedule();
    };
    try {
      const watcher = watch(dir, { persistent: false }, onEvent);
      watcher.on("error", () => undefined); // the poll still notices changes
      watchers.push(watcher);
    } catch {
      // A directory that cannot be watched (yet): the poll covers it.
    }
  }
  const stamps = new Map<string, string>();
  let polling = false;
  const poll = async (): Promise<void> => {
    if (polling) return;
    polling = true;
    try {
      let changed = false;
      for (const file of files) {
        const stamp = await stat(file).then(
          (s) => `${s.ino}:${s.size}:${s.mtimeMs}`,
          () => "missing",
        );
        if (stamps.has(file) && stamps.get(file) !== stamp) changed = true;
        stamps.set(file, stamp);
      }
      if (changed) schedule();
    } finally {
      polling = false;
    }
  };
  void poll();
  const interval = setInterval(() => void poll(), options.pollMs ?? 1000);
  interval.unref();
  return () => {
    clearTimeout(timer);
    clearInterval(interval);
    for (const watcher of watchers) watcher.close();
  };
}
