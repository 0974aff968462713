import { DigestpinError } from "../errors.ts";
import type { PinRecord } from "../policy/index.ts";
import { addPins } from "./pin-edit.ts";
import { appendToShard, emptyShardText, shardEntries } from "./shard-text.ts";
import {
  SHARD_TARGET_BYTES,
  shardIndex,
  shardName,
  storeDescription,
  type StoreLayout,
} from "./store-layout.ts";

/** The store has opened every shard it may and they are full; a person must make room. */
export class StoreFullError extends DigestpinError {
  static readonly code = "ERR_PIN_STORE_FULL";
  /** Retrying the review cannot succeed. */
  readonly retriable = false;

  constructor(layout: StoreLayout) {
    super(
      StoreFullError.code,
      `the pin store ${storeDescription(layout)} is full (${String(layout.maxShards)} ConfigMaps ` +
        `of about ${String(SHARD_TARGET_BYTES / 1024)} KiB): raise pinStore.maxShards in the chart ` +
        `(--pin-store-shards), or remove pins you no longer use with 'digestpin pins remove'`,
    );
  }
}

/** A shard of the store as read: its name and text (`undefined`: it does not exist yet). */
export interface Shard {
  readonly name: string;
  readonly text: string;
}

/**
 * Where new pins go: into the open shard (the highest-numbered one) while its text stays under
 * SHARD_TARGET_BYTES, then into the next shards, created as needed. Returns the new text of
 * every shard written, by name; throws StoreFullError past the store's last shard. Pure.
 */
export function placePins(
  layout: StoreLayout,
  shards: readonly Shard[],
  records: readonly PinRecord[],
): Map<string, string> {
  const numbered = shards
    .map((shard) => ({ shard, index: shardIndex(layout, shard.name) }))
    .filter((s): s is { shard: Shard; index: number } => s.index !== undefined)
    .sort((a, b) => a.index - b.index);
  const last = numbered.at(-1);
  let index = last?.index ?? 0;
  let text = last?.shard.text ?? emptyShardText();
  let size = Buffer.byteLength(text);
  let batch: PinRecord[] = [];
  const changes = new Map<string, string>();
  const flush = (): void => {
    if (batch.length === 0) return;
    changes.set(shardName(layout, index), appendOrAdd(text, batch));
    batch = [];
  };
  for (const record of records) {
    const bytes = Buffer.byteLength(shardEntries([record]));
    if (size + bytes > SHARD_TARGET_BYTES && (batch.length > 0 || size > emptySize())) {
      flush();
      index += 1;
      if (index >= layout.maxShards) throw new StoreFullError(layout);
      text = emptyShardText();
      size = Buffer.byteLength(text);
    }
    batch.push(record);
    size += bytes;
  }
  flush();
  return changes;
}

function appendOrAdd(text: string, records: readonly PinRecord[]): string {
  return appendToShard(text, records) ?? addPins(text, records).text;
}

function emptySize(): number {
  return Buffer.byteLength(emptyShardText());
}
