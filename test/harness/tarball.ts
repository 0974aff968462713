import { layerTar } from "./layer-tar.ts";

/** File contents by path inside a layer, e.g. `{ "etc/motd": "hello\n" }`. */
export type LayerFiles = Readonly<Record<string, string | Uint8Array>>;

/**
 * A POSIX ustar archive of regular files (mode 0644, owner root, mtime 0), the format of an
 * image layer before compression. The same files always give the same bytes.
 */
export function tarball(files: LayerFiles): Buffer {
  return layerTar(Object.entries(files).map(([path, content]) => ({ path, content })));
}
