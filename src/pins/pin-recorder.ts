import { setTimeout as sleep } from "node:timers/promises";
import type { KubeConfig, V1ConfigMap } from "@kubernetes/client-node";
import { invariantBroken } from "../errors.ts";
import { ConfigMapConflictError, ConfigMaps } from "../kube/index.ts";
import { silentLogger, type Logger } from "../observability/index.ts";
import { PINS_KEY, type PinRecord, type Policy } from "../policy/index.ts";
import { StoreFullError } from "./placement.ts";
import { storeLabels } from "./policy-configmaps.ts";
import { appendToShard, emptyShardText, shardEntries, shardPins } from "./shard-text.ts";
import {
  SHARD_TARGET_BYTES,
  shardIndex,
  shardName,
  STORE_LABEL_SELECTOR,
  type StoreLayout,
} from "./store-layout.ts";
import { rfc3339 } from "./time.ts";

/** What became of a recorded pin: the digest now pinned for the key, and whether it is ours. */
export interface RecordResult {
  /** recorded: this digest is now the pin; already-pinned: the key had a pin, which stays. */
  readonly outcome: "recorded" | "already-pinned";
  /** The digest the key is pinned to now (another one than recorded when already-pinned). */
  readonly digest: string;
}

/**
 * Records trust-on-first-use pins. The first digest recorded for a key wins; later records of
 * the key (from this or any other replica) leave it. The webhook never calls it for dry runs.
 */
export interface PinRecorder {
  record(key: string, record: PinRecord): Promise<RecordResult>;
}

export interface StorePinRecorderOptions {
  readonly kubeConfig: KubeConfig;
  readonly layout: StoreLayout;
  /** The policy in force: a key it pins already is not recorded again. */
  readonly policy?: () => Policy | undefined;
  readonly now?: () => Date;
  /** Read-modify-write rounds before giving up under contention (default 40). */
  readonly maxAttempts?: number;
  readonly logger?: Logger;
}

interface Pending {
  readonly record: PinRecord;
  readonly resolve: (result: RecordResult) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * A PinRecorder writing into digestpin's pin store (store-layout.ts), never the policy: new
 * pins are appended to the open shard (the highest-numbered), and when it is full the next one
 * is created. Records that arrive while a write is in flight go together in the next one. Each
 * write is read-modify-write at the shard's resourceVersion, redone on a conflict, so replicas
 * recording at once never lose or overwrite a pin. Appending reads the shard's text, not its
 * YAML: a write costs the webhook little, whatever the shard holds.
 */
export class StorePinRecorder implements PinRecorder {
  readonly #configMaps: ConfigMaps;
  readonly #options: StorePinRecorderOptions;
  readonly #logger: Logger;
  /** The shard new pins go to, once known (found on the first write). */
  #open: number | undefined;
  #queue: Pending[] = [];
  #running = false;

  constructor(options: StorePinRecorderOptions) {
    this.#options = options;
    this.#configMaps = new ConfigMaps(options.kubeConfig, options.layout.namespace);
    this.#logger = options.logger ?? silentLogger();
  }

  record(key: string, record: PinRecord): Promise<RecordResult> {
    const pinned = this.#options.policy?.()?.pins.get(key);
    if (pinned !== undefined) {
      return Promise.resolve({ outcome: "already-pinned", digest: pinned.digest });
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ record: { ...record, key }, resolve, reject });
      void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        try {
          const outcomes = await this.#write(batch.map((pending) => pending.record));
          for (const pending of batch) {
            const outcome = outcomes.get(pending.record.key);
            if (outcome === undefined) throw invariantBroken("a pin without an outcome");
            pending.resolve(outcome);
          }
        } catch (error) {
          this.#logger.error({ err: error, pins: batch.length }, "recording pins failed");
          for (const pending of batch) pending.reject(error);
        }
      }
    } finally {
      this.#running = false;
    }
  }

  /** Writes `records` into the store; the outcome of each key. */
  async #write(records: readonly PinRecord[]): Promise<Map<string, RecordResult>> {
    const pinnedAt = rfc3339(this.#options.now?.() ?? new Date());
    const outcomes = new Map<string, RecordResult>();
    let pending = records
      .map((record) => ({ ...record, pinnedAt: record.pinnedAt ?? pinnedAt }))
      .filter((record) => {
        if (outcomes.has(record.key)) return false; // a key twice in a batch: the first wins
        outcomes.set(record.key, { outcome: "recorded", digest: record.digest });
        return true;
      });
    const { layout } = this.#options;
    const attempts = this.#options.maxAttempts ?? 40;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const index = this.#open ?? (await this.#findOpen());
      if (index >= layout.maxShards) throw new StoreFullError(layout);
      const name = shardName(layout, index);
      const current = await this.#configMaps.get(name);
      const text = current?.data?.[PINS_KEY] ?? emptyShardText();
      const inShard = shardPins(text);
      const fresh = pending.filter((record) => {
        const pinned = inShard.get(record.key);
        if (pinned !== undefined)
          outcomes.set(record.key, { outcome: "already-pinned", digest: pinned });
        return pinned === undefined;
      });
      const fitting = fits(text, fresh);
      if (fitting.length === 0 && fresh.length > 0) {
        this.#open = index + 1; // full: the next shard is the open one
        continue;
      }
      try {
        if (fitting.length > 0) await this.#put(name, current, text, fitting);
        this.#open = index;
        pending = fresh.slice(fitting.length);
        if (fitting.length > 0) {
          const added = fitting.map((record) => record.key);
          this.#logger.info({ configMap: name, pins: added }, "recorded pins on first use");
        }
      } catch (error) {
        if (!(error instanceof ConfigMapConflictError) || attempt >= attempts) throw error;
        // Someone else wrote first: read their pins and append again, after a short jitter.
        pending = fresh;
        await sleep(Math.floor(Math.random() * 20 * Math.min(attempt, 10)));
      }
    }
    return outcomes;
  }

  async #put(
    name: string,
    current: V1ConfigMap | undefined,
    text: string,
    records: readonly PinRecord[],
  ): Promise<void> {
    const next = appendToShard(text, records);
    if (next === undefined) {
      throw invariantBroken(`${name} is not in the layout digestpin writes its shards in`);
    }
    const data = { [PINS_KEY]: next };
    if (current === undefined) await this.#configMaps.create(name, storeLabels(), data);
    else await this.#configMaps.update(current, data);
  }

  /** The highest-numbered shard of the store, or 0 for an empty store. */
  async #findOpen(): Promise<number> {
    const shards = await this.#configMaps.list(STORE_LABEL_SELECTOR);
    const indexes = shards
      .map((configMap) => shardIndex(this.#options.layout, configMap.metadata?.name ?? ""))
      .filter((index) => index !== undefined);
    return Math.max(0, ...indexes);
  }
}

/** The first records of `records` that fit into the shard `text` under the target size. */
function fits(text: string, records: readonly PinRecord[]): PinRecord[] {
  let size = Buffer.byteLength(text);
  const fitting: PinRecord[] = [];
  for (const record of records) {
    size += Buffer.byteLength(shardEntries([record]));
    if (size > SHARD_TARGET_BYTES) break;
    fitting.push(record);
  }
  return fitting;
}
