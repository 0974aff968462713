/**
 * Layer tarballs with every kind of member an image layer can hold: files with modes and
 * owners, directories, symlinks, hardlinks, devices, OCI whiteouts and opaque markers, long
 * names (PAX or GNU) and extended attributes. The same entries always give the same bytes.
 */

interface Common {
  readonly path: string;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly mtime?: number;
}

export type LayerEntry =
  | (Common & {
      readonly type?: "file";
      readonly content?: string | Uint8Array;
      /** Extended attributes, written as PAX SCHILY.xattr records. */
      readonly xattrs?: Readonly<Record<string, string | Uint8Array>>;
    })
  | (Common & { readonly type: "dir" })
  | (Common & { readonly type: "symlink" | "hardlink"; readonly target: string })
  | (Common & { readonly type: "char" | "block"; readonly major: number; readonly minor: number })
  | (Common & { readonly type: "fifo" })
  /** `path` is deleted from the layers below: writes `dir/.wh.name`. */
  | { readonly type: "whiteout"; readonly path: string }
  /** `path`'s contents from the layers below are hidden: writes `path/.wh..wh..opq`. */
  | { readonly type: "opaque"; readonly path: string };

export interface LayerTarOptions {
  /** How names longer than 100 bytes are written (default pax). */
  readonly longNames?: "pax" | "gnu";
}

const BLOCK = 512;
const FLAGS = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  char: "3",
  block: "4",
  dir: "5",
  fifo: "6",
};

export function layerTar(entries: readonly LayerEntry[], options: LayerTarOptions = {}): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) parts.push(...member(entry, options));
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

function member(entry: LayerEntry, options: LayerTarOptions): Buffer[] {
  const strip = (path: string) => path.replace(/^\/+/, "");
  if (entry.type === "whiteout") {
    const path = strip(entry.path);
    const slash = path.lastIndexOf("/");
    const name = `${path.slice(0, slash + 1)}.wh.${path.slice(slash + 1)}`;
    return member({ path: name, content: "" }, options);
  }
  if (entry.type === "opaque") {
    return member({ path: `${strip(entry.path)}/.wh..wh..opq`, content: "" }, options);
  }
  const type = entry.type ?? "file";
  let name = strip(entry.path);
  if (type === "dir" && !name.endsWith("/")) name += "/";
  const data =
    entry.type === undefined || entry.type === "file"
      ? Buffer.from(entry.content ?? "")
      : Buffer.alloc(0);
  const target = entry.type === "symlink" || entry.type === "hardlink" ? entry.target : "";
  const pax: [string, Buffer][] = [];
  const extra: Buffer[] = [];
  if (Buffer.byteLength(name) > 100) {
    if (options.longNames === "gnu") {
      extra.push(...record("L", "././@LongLink", Buffer.from(`${name}\u0000`)));
    } else pax.push(["path", Buffer.from(name)]);
    name = name.slice(0, 99);
  }
  if (Buffer.byteLength(target) > 100) {
    if (options.longNames === "gnu") {
      extra.push(...record("K", "././@LongLink", Buffer.from(`${target}\u0000`)));
    } else pax.push(["linkpath", Buffer.from(target)]);
  }
  if (entry.type === undefined || entry.type === "file") {
    for (const [key, value] of Object.entries(entry.xattrs ?? {})) {
      pax.push([`SCHILY.xattr.${key}`, Buffer.from(value)]);
    }
  }
  if (pax.length > 0) extra.push(...record("x", `PaxHeaders/${name.slice(0, 80)}`, paxData(pax)));
  const header = headerBlock({
    name,
    mode: entry.mode ?? (type === "dir" ? 0o755 : type === "symlink" ? 0o777 : 0o644),
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
    size: data.length,
    mtime: entry.mtime ?? 0,
    flag: FLAGS[type],
    linkname: target.slice(0, 100),
    major: entry.type === "char" || entry.type === "block" ? entry.major : 0,
    minor: entry.type === "char" || entry.type === "block" ? entry.minor : 0,
  });
  return [...extra, header, data, Buffer.alloc(padding(data.length))];
}

function record(flag: string, name: string, data: Buffer): Buffer[] {
  const header = headerBlock({
    name,
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: data.length,
    mtime: 0,
    flag,
    linkname: "",
    major: 0,
    minor: 0,
  });
  return [header, data, Buffer.alloc(padding(data.length))];
}

/** PAX records: `LEN key=value\n`, where LEN counts the whole record, itself included. */
function paxData(records: readonly [string, Buffer][]): Buffer {
  return Buffer.concat(
    records.map(([key, value]) => {
      const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from("\n")]);
      let length = body.length + 1;
      while (String(length).length + body.length !== length) length++;
      return Buffer.concat([Buffer.from(String(length)), body]);
    }),
  );
}

interface Header {
  readonly name: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtime: number;
  readonly flag: string;
  readonly linkname: string;
  readonly major: number;
  readonly minor: number;
}

function headerBlock(h: Header): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(h.name, 0, 100, "utf8");
  block.write(octal(h.mode, 8), 100);
  block.write(octal(h.uid, 8), 108);
  block.write(octal(h.gid, 8), 116);
  block.write(octal(h.size, 12), 124);
  block.write(octal(h.mtime, 12), 136);
  block.write(" ".repeat(8), 148);
  block.write(h.flag, 156);
  block.write(h.linkname, 157, 100, "utf8");
  block.write("ustar\u000000", 257);
  block.write("root", 265);
  block.write("root", 297);
  block.write(octal(h.major, 8), 329);
  block.write(octal(h.minor, 8), 337);
  let checksum = 0;
  for (const byte of block) checksum += byte;
  block.write(`${checksum.toString(8).padStart(6, "0")}\u0000 `, 148);
  return block;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\u0000`;
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
