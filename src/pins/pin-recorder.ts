import { setTimeout as sleep } from "node:timers/promises";
import type { KubeConfig } from "@kubernetes/client-node";
import { DigestpinError, invariantBroken } from "../errors.ts";
import { ConfigMapConflictError, ConfigMaps } from "../kube/index.ts";
import { silentLogger, type Logger } from "../observability/index.ts";
import {
  AUTO_PINS_CONFIGMAP,
  PINS_KEY,
  PINS_LABEL,
  type PinRecord,
  type Policy,
} from "../policy/index.ts";
import { addPins, type AddOutcome } from "./pin-edit.ts";
import { emptyPinsText } from "./pin-render.ts";
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

export interface ConfigMapPinRecorderOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  /** Default digestpin-pins-auto. */
  readonly configMap?: string;
  /** The policy in force: a key it pins already is not recorded again. */
  readonly policy?: () => Policy | undefined;
  readonly now?: () => Date;
  /** Read-modify-write rounds before giving up under contention (default 40). */
  readonly maxAttempts?: number;
  readonly logger?: Logger;
}

/**
 * The most pins.yaml may hold: the API server refuses a ConfigMap whose data passes 1 MiB
 * (keys included); the rest is left for the key.
 */
export const AUTO_PINS_MAX_BYTES = 1024 * 1024 - 1024;

/** The auto-pins ConfigMap cannot take another pin; retrying will not help, a person must. */
export class AutoPinsFullError extends DigestpinError {
  static readonly code = "ERR_AUTO_PINS_FULL";
  readonly retriable = false;

  constructor(namespace: string, name: string, bytes: number) {
    super(
      AutoPinsFullError.code,
      `configmap ${namespace}/${name} is full (${bytes} bytes with this pin; a ConfigMap holds ` +
        `1 MiB): review its pins and move them to a pins ConfigMap of your own`,
    );
  }
}

const HEADER = [
  "Pins recorded by digestpin on first use (unpinned: trust-on-first-use).",
  "Review them; 'digestpin diff' and 'digestpin approve' work on them like on any pin.",
];

interface Pending {
  readonly record: PinRecord;
  readonly resolve: (result: RecordResult) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * A PinRecorder writing to its own pins ConfigMap (never the human-owned policy): created when
 * missing, labelled digestpin.dev/pins=true, key pins.yaml. Records that arrive while a write is
 * in flight are written together in the next one. Each write is read-modify-write with the
 * resourceVersion as precondition, redone on a conflict, so concurrent replicas never lose or
 * overwrite a pin.
 */
export class ConfigMapPinRecorder implements PinRecorder {
  readonly #configMaps: ConfigMaps;
  readonly #name: string;
  readonly #options: ConfigMapPinRecorderOptions;
  readonly #logger: Logger;
  #queue: Pending[] = [];
  #running = false;

  constructor(options: ConfigMapPinRecorderOptions) {
    this.#options = options;
    this.#configMaps = new ConfigMaps(options.kubeConfig, options.namespace);
    this.#name = options.configMap ?? AUTO_PINS_CONFIGMAP;
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
          batch.forEach((pending, index) => {
            pending.resolve(resultOf(outcomes[index]));
          });
        } catch (error) {
          this.#logger.error({ err: error, pins: batch.length }, "recording pins failed");
          for (const pending of batch) pending.reject(error);
        }
      }
    } finally {
      this.#running = false;
    }
  }

  async #write(records: readonly PinRecord[]): Promise<AddOutcome[]> {
    const pinnedAt = rfc3339(this.#options.now?.() ?? new Date());
    const stamped = records.map((record) => ({ ...record, pinnedAt: record.pinnedAt ?? pinnedAt }));
    const attempts = this.#options.maxAttempts ?? 40;
    for (let attempt = 1; ; attempt++) {
      const current = await this.#configMaps.get(this.#name);
      const text = current?.data?.[PINS_KEY] ?? emptyPinsText(HEADER);
      const { text: next, outcomes } = addPins(text, stamped);
      if (!outcomes.some((o) => o.outcome === "added")) return outcomes;
      const bytes = Buffer.byteLength(next);
      if (bytes > AUTO_PINS_MAX_BYTES)
        throw new AutoPinsFullError(this.#options.namespace, this.#name, bytes);
      try {
        const data = { [PINS_KEY]: next };
        const labels = { [PINS_LABEL]: "true" };
        if (current === undefined) await this.#configMaps.create(this.#name, labels, data);
        else await this.#configMaps.update(current, data, labels);
        const added = outcomes.filter((o) => o.outcome === "added").map((o) => o.key);
        this.#logger.info({ configMap: this.#name, pins: added }, "recorded pins on first use");
        return outcomes;
      } catch (error) {
        if (!(error instanceof ConfigMapConflictError) || attempt >= attempts) throw error;
        // Someone else wrote first: read their pins and merge again, after a short jitter.
        await sleep(Math.floor(Math.random() * 20 * Math.min(attempt, 10)));
      }
    }
  }
}

function resultOf(outcome: AddOutcome | undefined): RecordResult {
  if (outcome === undefined) throw invariantBroken("a pin without an outcome");
  return outcome.outcome === "added"
    ? { outcome: "recorded", digest: outcome.digest }
    : { outcome: "already-pinned", digest: outcome.digest };
}
