/** File contents by path inside a layer, e.g. `{ "etc/motd": "hello\n" }`. */
export type LayerFiles = Readonly<Record<string, string | Uint8Array>>;

const BLOCK = 512;

/**
 * A POSIX ustar archive of regular files (mode 0644, owner root, mtime 0), the format of an
 * image layer before compression. The same files always give the same bytes.
 */
export function tarball(files: LayerFiles): Buffer {
  const parts: Buffer[] = [];
  for (const [path, content] of Object.entries(files)) {
    const data = typeof content === "string" ? Buffer.from(content) : Buffer.from(content);
    parts.push(header(path, data.length), data, Buffer.alloc(padding(data.length)));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

function header(path: string, size: number): Buffer {
  const name = path.replace(/^\/+/, "");
  if (name === "" || Buffer.byteLength(name) > 100) {
    throw new Error(`tarball: path must be 1..100 bytes: ${JSON.stringify(path)}`);
  }
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, "utf8");
  block.write(octal(0o644, 8), 100);
  block.write(octal(0, 8), 108); // uid
  block.write(octal(0, 8), 116); // gid
  block.write(octal(size, 12), 124);
  block.write(octal(0, 12), 136); // mtime
  block.write(" ".repeat(8), 148); // checksum, counted as spaces
  block.write("0", 156); // typeflag: regular file
  block.write("ustar\u000000", 257);
  block.write("root", 265);
  block.write("root", 297);
  let checksum = 0;
  for (const byte of block) checksum += byte;
  block.write(`${checksum.toString(8).padStart(6, "0")}\u0000 `, 148);
  return block;
}

/** An octal field of `width` bytes: digits, then a NUL. */
function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\u0000`;
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
