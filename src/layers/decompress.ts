import { PassThrough, type Duplex } from "node:stream";
import { createGunzip, createZstdDecompress } from "node:zlib";
import { LayerError } from "./errors.ts";

export type Compression = "gzip" | "zstd" | "none";

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];
const BZIP2 = [0x42, 0x5a, 0x68];
const XZ = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];

/**
 * The compression of a layer from its first bytes (the media type can be wrong: Docker's
 * `rootfs.diff.tar.gzip` is gzip, but registries have served plain tars under it). An OCI layer
 * is a tar, gzip'd tar or zstd'd tar; bzip2 and xz are refused with a clear message.
 */
export function detectCompression(head: Uint8Array): Compression {
  const starts = (magic: readonly number[]) => magic.every((byte, i) => head[i] === byte);
  if (starts(GZIP)) return "gzip";
  if (starts(ZSTD)) return "zstd";
  if (starts(BZIP2) || starts(XZ)) {
    throw new LayerError(
      "ERR_LAYER_COMPRESSION",
      `the layer is ${starts(XZ) ? "xz" : "bzip2"}-compressed; OCI layers are tar, gzip or zstd`,
    );
  }
  return "none";
}

/** A stream that decompresses `compression` (a pass-through for "none"). */
export function decompressor(compression: Compression): Duplex {
  switch (compression) {
    case "gzip":
      return createGunzip();
    case "zstd":
      return createZstdDecompress();
    case "none":
      return new PassThrough();
  }
}
