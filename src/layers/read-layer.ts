import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { isDigestpinError } from "../errors.ts";
import { decompressor, detectCompression, type Compression } from "./decompress.ts";
import { LayerError } from "./errors.ts";
import { TarParser, type TarEntry } from "./tar-reader.ts";

/** A layer as its manifest describes it (the compression is told by its first bytes). */
export interface LayerRef {
  readonly digest: string;
  readonly size: number;
}

/** Opens a layer's blob: its bytes as served, verified against the digest at the end. */
export type OpenLayer = (layer: LayerRef) => Promise<AsyncIterable<Buffer>>;

export interface ReadLayerOptions {
  /** Whether to hash the content of the regular file at `path`. */
  readonly hash?: (path: string) => boolean;
  /** Called with the count of compressed bytes as they arrive. */
  readonly onBytes?: (bytes: number) => void;
}

export interface LayerRead {
  readonly compression: Compression;
  readonly entries: number;
}

/**
 * Streams one layer through its decompressor (gzip, zstd or none, from its first bytes) into
 * the tar reader, calling `onEntry` per member. Nothing is written to disk and no content is
 * kept. Resolves only after the whole blob has been read and its digest verified.
 */
export async function readLayer(
  open: OpenLayer,
  layer: LayerRef,
  onEntry: (entry: TarEntry) => void,
  options: ReadLayerOptions = {},
): Promise<LayerRead> {
  const blob = (await open(layer))[Symbol.asyncIterator]();
  const first = await blob.next();
  const head: Buffer = first.done === true ? Buffer.alloc(0) : first.value;
  const compression = detectCompression(head);
  const parser = new TarParser(onEntry, options.hash === undefined ? {} : { hash: options.hash });
  const onBytes = options.onBytes ?? (() => undefined);
  async function* bytes(): AsyncGenerator<Buffer> {
    if (first.done === true) return;
    onBytes(head.length);
    yield head;
    for (;;) {
      const next = await blob.next();
      if (next.done === true) return;
      onBytes(next.value.length);
      yield next.value;
    }
  }
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      try {
        parser.write(chunk);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  try {
    await pipeline(Readable.from(bytes()), decompressor(compression), sink);
    parser.end();
  } catch (error) {
    if (error instanceof LayerError) {
      throw new LayerError(error.code, `layer ${layer.digest}: ${error.message}`, { cause: error });
    }
    if (isDigestpinError(error)) throw error;
    throw new LayerError(
      "ERR_LAYER_FORMAT",
      `layer ${layer.digest}: the ${compression === "none" ? "tar" : compression} data is corrupt (${(error as Error).message})`,
      { cause: error },
    );
  }
  return { compression, entries: parser.entries };
}
