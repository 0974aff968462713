import { createHash } from "node:crypto";

/** One 512-byte header block of a tar archive, decoded (POSIX ustar, GNU and V7). */
export interface RawHeader {
  readonly name: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtime: number;
  readonly typeflag: string;
  readonly linkname: string;
  readonly devmajor: number;
  readonly devminor: number;
  /** GNU sparse files: the size of the file once its holes are filled in. */
  readonly realSize: number | undefined;
}

export const BLOCK = 512;

/** Whether the block is all zeros (the end-of-archive marker is two of them). */
export function isZeroBlock(block: Uint8Array): boolean {
  for (const byte of block) if (byte !== 0) return false;
  return true;
}

/**
 * Decodes a header block; undefined when its checksum is wrong (it is not a tar header). Both
 * the unsigned sum (POSIX) and the signed sum (old Sun and GNU tars) are accepted.
 */
export function decodeHeader(block: Buffer): RawHeader | undefined {
  const stored = numeric(block, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  if (stored !== unsigned && stored !== signed) return undefined;
  const magic = block.toString("latin1", 257, 263);
  const version = block.toString("latin1", 263, 265);
  // POSIX ustar splits long names into prefix/name; GNU tar uses those bytes for other things.
  const posix = magic === "ustar\u0000" && version === "00";
  const gnu = magic === "ustar " && version === " \u0000";
  const name = text(block, 0, 100);
  const prefix = posix ? text(block, 345, 155) : "";
  const typeflag = String.fromCharCode(block[156] ?? 0);
  return {
    name: prefix === "" ? name : `${prefix}/${name}`,
    mode: numeric(block, 100, 8),
    uid: numeric(block, 108, 8),
    gid: numeric(block, 116, 8),
    size: numeric(block, 124, 12),
    mtime: numeric(block, 136, 12),
    typeflag,
    linkname: text(block, 157, 100),
    devmajor: posix || gnu ? numeric(block, 329, 8) : 0,
    devminor: posix || gnu ? numeric(block, 337, 8) : 0,
    realSize: gnu && typeflag === "S" ? numeric(block, 483, 12) : undefined,
  };
}

/** A NUL-terminated UTF-8 field. */
function text(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.toString("utf8", 0, end === -1 ? length : end);
}

/**
 * A numeric field: octal digits (padded with spaces or NULs), or GNU base-256 when the first
 * byte has its high bit set (values too large for octal, e.g. uids above 2097151).
 */
export function numeric(block: Buffer, offset: number, length: number): number {
  const first = block[offset] ?? 0;
  if ((first & 0x80) !== 0) {
    if (first === 0xff) return 0; // a negative value: meaningless for sizes, ids and modes
    let value = first & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + (block[offset + i] ?? 0);
    return value;
  }
  // Leading spaces, the digits, then a NUL or a space (and whatever follows it).
  const digits = /^ *([0-7]*)/.exec(block.toString("latin1", offset, offset + length))?.[1] ?? "";
  return digits === "" ? 0 : Number.parseInt(digits, 8);
}

/** PAX extended header records (`LEN key=value\n`), values as bytes (xattrs may be binary). */
export function parsePax(data: Buffer): Map<string, Buffer> | undefined {
  const records = new Map<string, Buffer>();
  let offset = 0;
  while (offset < data.length) {
    if (data[offset] === 0) break; // NUL padding after the last record
    const space = data.indexOf(0x20, offset);
    if (space === -1) return undefined;
    const length = Number(data.toString("latin1", offset, space));
    if (!Number.isInteger(length) || length <= space - offset + 1 || offset + length > data.length)
      return undefined;
    const record = data.subarray(space + 1, offset + length - 1); // without the final \n
    const equals = record.indexOf(0x3d);
    if (equals === -1) return undefined;
    records.set(record.toString("utf8", 0, equals), record.subarray(equals + 1));
    offset += length;
  }
  return records;
}

/** How an extended attribute's value is kept: short values in hex, longer ones hashed. */
export function xattrValue(value: Buffer): string {
  return value.length <= 32
    ? `hex:${value.toString("hex")}`
    : `sha256:${createHash("sha256").update(value).digest("hex")}`;
}
