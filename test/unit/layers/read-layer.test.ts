import { gzipSync, zstdCompressSync } from "node:zlib";
import test from "ava";
import { detectCompression } from "../../../src/layers/decompress.ts";
import { readLayer, type OpenLayer } from "../../../src/layers/read-layer.ts";
import type { TarEntry } from "../../../src/layers/tar-reader.ts";
import { RegistryError } from "../../../src/registry/errors.ts";
import { layerTar } from "../../harness/layer-tar.ts";

// A layer blob streamed through its decompressor into the tar reader.

const layer = { digest: `sha256:${"0".repeat(64)}`, size: 0 };
const tar = layerTar([
  { path: "etc", type: "dir" },
  { path: "etc/motd", content: "hello\n".repeat(10_000) },
  { path: "harmful", content: "evil" },
]);

/** Serves `blob` in 1000-byte chunks; `after` runs once the last chunk was taken. */
const serve =
  (blob: Buffer, after?: () => void): OpenLayer =>
  () =>
    Promise.resolve(
      (async function* () {
        for (let at = 0; at < blob.length; at += 1000) {
          yield await Promise.resolve(blob.subarray(at, at + 1000));
        }
        after?.();
      })(),
    );

async function entriesOf(open: OpenLayer) {
  const entries: TarEntry[] = [];
  let bytes = 0;
  const read = await readLayer(open, layer, (e) => entries.push(e), {
    onBytes: (n) => (bytes += n),
    hash: () => true,
  });
  return { read, paths: entries.map((e) => e.path), bytes };
}

test("gzip, zstd and plain tar layers are read alike; bytes are counted compressed", async (t) => {
  for (const [compression, blob] of [
    ["gzip", gzipSync(tar)],
    ["zstd", zstdCompressSync(tar)],
    ["none", tar],
  ] as const) {
    const { read, paths, bytes } = await entriesOf(serve(blob));
    t.is(read.compression, compression);
    t.deepEqual(paths, ["etc/", "etc/motd", "harmful"], compression);
    t.is(bytes, blob.length, compression);
  }
});

test("compression is told by the first bytes; bzip2 and xz are refused clearly", (t) => {
  t.is(detectCompression(Buffer.from([0x1f, 0x8b, 8])), "gzip");
  t.is(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), "zstd");
  t.is(detectCompression(Buffer.from("etc/motd")), "none");
  t.throws(() => detectCompression(Buffer.from("BZh91AY")), {
    code: "ERR_LAYER_COMPRESSION",
    message: /bzip2/,
  });
  t.throws(() => detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0])), {
    message: /xz/,
  });
});

test("a digest mismatch found after the last chunk fails the read", async (t) => {
  const open = serve(gzipSync(tar), () => {
    throw new RegistryError("ERR_DIGEST_MISMATCH", "r", "digest mismatch for r/x@sha256:…");
  });
  await t.throwsAsync(entriesOf(open), { code: "ERR_DIGEST_MISMATCH" });
});

test("corrupt compressed data is a layer format error naming the layer", async (t) => {
  const blob = gzipSync(tar);
  blob.fill(0x55, 100, 200);
  await t.throwsAsync(entriesOf(serve(blob)), {
    code: "ERR_LAYER_FORMAT",
    // Garbage inflates into garbage until the CRC: the tar reader may notice first.
    message: new RegExp(`^layer ${layer.digest}: (the gzip data is corrupt|not a tar archive)`),
  });
  const zstd = zstdCompressSync(tar);
  await t.throwsAsync(entriesOf(serve(zstd.subarray(0, zstd.length >> 1))), {
    code: "ERR_LAYER_FORMAT",
  });
});
