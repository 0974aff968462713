import { configMapSource } from "../policy/index.ts";

/*
 * digestpin's pin store: ConfigMaps it creates and owns in its namespace, `PREFIX-000`,
 * `PREFIX-001`, … (default prefix digestpin-pins), key pins.yaml, labelled as pins (so the
 * policy source merges them) and as the store's (so nothing else is mistaken for it). The chart
 * never renders them and Helm never owns them: `helm upgrade` and GitOps syncs leave them alone,
 * and `helm uninstall` keeps them.
 */

export const DEFAULT_STORE_PREFIX = "digestpin-pins";

/** The label that marks a ConfigMap as part of digestpin's pin store. */
export const STORE_LABEL = "digestpin.dev/store";
export const STORE_LABEL_SELECTOR = `${STORE_LABEL}=true`;

/** New pins go to a shard while its text stays under this; then the next shard is opened. */
export const SHARD_TARGET_BYTES = 768 * 1024;
/**
 * No shard grows past this (an approval adds history to a pin where it is): the API server
 * refuses a ConfigMap whose data passes 1 MiB, keys included.
 */
export const SHARD_LIMIT_BYTES = 1024 * 1024 - 1024;
/** How many shards the store may open (the chart's RBAC names each; ~3,000 pins a shard). */
export const DEFAULT_MAX_SHARDS = 64;

export interface StoreLayout {
  readonly namespace: string;
  readonly prefix: string;
  readonly maxShards: number;
  /** The ConfigMap trust-on-first-use wrote to before the store (read and edited, not grown). */
  readonly legacy?: string;
}

/** `digestpin-pins-007`. */
export function shardName(layout: StoreLayout, index: number): string {
  return `${layout.prefix}-${String(index).padStart(3, "0")}`;
}

/** The shard index of a ConfigMap name, or undefined when the name is no shard of this store. */
export function shardIndex(layout: StoreLayout, name: string): number | undefined {
  const match = /^(\d{3,})$/.exec(name.slice(layout.prefix.length + 1));
  if (!name.startsWith(`${layout.prefix}-`) || match?.[1] === undefined) return undefined;
  const index = Number(match[1]);
  return index < layout.maxShards && name === shardName(layout, index) ? index : undefined;
}

/** Whether a ConfigMap of this name holds pins digestpin owns (a shard, or the legacy one). */
export function isStoreName(layout: StoreLayout, name: string): boolean {
  return name === layout.legacy || shardIndex(layout, name) !== undefined;
}

/** `configmap NS/PREFIX-*`: the store in messages. */
export function storeDescription(layout: StoreLayout): string {
  return `${configMapSource(layout.namespace, layout.prefix)}-*`;
}

/** The comment every shard starts with. */
export const SHARD_HEADER = [
  "Pins recorded by digestpin (digestpin pin, digestpin approve, trust-on-first-use).",
  "digestpin owns this ConfigMap: change its pins with 'digestpin approve' and",
  "'digestpin pins remove', not by hand.",
];
