import type { PinHistoryEntry, PinRecord, PolicyIssue } from "../document/index.ts";
import { conflict, richness, type PinSource } from "./merge.ts";
import { PinIndex } from "./pin-index.ts";

/** A record of a key, and the source (by name) it comes from. */
interface Contribution {
  readonly source: string;
  record: PinRecord;
}

/**
 * How a pins array differs from an earlier one of the same document: `set` new or changed
 * records, `unset` keys gone; every other record is the earlier one (perhaps on another line).
 */
export interface PinDelta {
  readonly from: readonly PinRecord[];
  readonly set: readonly PinRecord[];
  readonly unset: readonly string[];
}

const DELTAS = new WeakMap<readonly PinRecord[], PinDelta>();

/**
 * Notes that `pins` is `delta.from` changed by `delta` (a reader that received only the
 * difference says so): PinMerge then merges only those pins instead of comparing them all.
 */
export function notePinDelta(pins: readonly PinRecord[], delta: PinDelta): void {
  DELTAS.set(pins, delta);
}

export type MergeResult =
  | {
      readonly ok: true;
      readonly index: PinIndex;
      /** The keys whose pin differs from the last index returned. */
      readonly changed: ReadonlySet<string>;
    }
  | { readonly ok: false; readonly issues: readonly PolicyIssue[] };

/**
 * mergePins kept up to date by differences: given the sources again after an edit, it compares
 * only the sources whose pins array changed (by identity: a document parsed once per version
 * keeps its array) and updates only the keys they touch. The index it returns equals
 * mergePins of the same sources (property-tested), a tag pinned to two digests is reported the
 * same way, and the index is made from the last one (PinIndex.with), so an edit of one pin
 * among 100,000 costs what that pin costs, not what the set costs. Pure, not thread-safe.
 */
export class PinMerge {
  /** By source name: the array last seen, and its records by key. */
  #sources = new Map<string, { pins: readonly PinRecord[]; byKey: Map<string, PinRecord> }>();
  #order: readonly string[] = [];
  /** key → its records, one per source that pins it. */
  #contributions = new Map<string, Contribution[]>();
  /** Keys pinned to two digests now. */
  readonly #conflicted = new Set<string>();
  /** Keys touched since the last index returned. */
  readonly #dirty = new Set<string>();
  #index = PinIndex.empty;

  update(sources: readonly PinSource[]): MergeResult {
    const names = sources.map((source) => source.source);
    if (new Set(names).size !== names.length || !keepsOrder(this.#order, names)) this.#reset();
    this.#order = names;
    const position = new Map(names.map((name, index) => [name, index]));
    for (const [name, seen] of this.#sources) {
      if (position.has(name)) continue;
      for (const key of seen.byKey.keys()) this.#withdraw(key, name);
      this.#sources.delete(name);
    }
    for (const source of sources) this.#read(source);
    const touched = [...this.#dirty];
    for (const key of touched) {
      const records = this.#contributions.get(key);
      const first = records?.[0]?.record.digest;
      if (records?.some((c) => c.record.digest !== first) === true) this.#conflicted.add(key);
      else this.#conflicted.delete(key);
    }
    if (this.#conflicted.size > 0) return { ok: false, issues: this.#issues(position) };
    const changes = new Map<string, PinRecord | null>();
    for (const key of touched) {
      const winner = this.#winner(key, position);
      if (winner !== this.#index.get(key)) changes.set(key, winner ?? null);
    }
    this.#dirty.clear();
    this.#index = this.#index.with(changes);
    return { ok: true, index: this.#index, changed: new Set(changes.keys()) };
  }

  #reset(): void {
    for (const key of this.#contributions.keys()) this.#dirty.add(key);
    this.#sources = new Map();
    this.#contributions = new Map();
  }

  #read(source: PinSource): void {
    const seen = this.#sources.get(source.source);
    if (seen?.pins === source.pins) return;
    const delta = DELTAS.get(source.pins);
    if (seen !== undefined && delta?.from === seen.pins) {
      for (const key of delta.unset) {
        if (seen.byKey.delete(key)) this.#withdraw(key, source.source);
      }
      for (const record of delta.set) this.#contribute(source.source, seen.byKey, record);
      this.#sources.set(source.source, { pins: source.pins, byKey: seen.byKey });
      return;
    }
    const byKey = new Map<string, PinRecord>();
    for (const record of source.pins) if (!byKey.has(record.key)) byKey.set(record.key, record);
    if (seen !== undefined) {
      for (const key of seen.byKey.keys()) if (!byKey.has(key)) this.#withdraw(key, source.source);
    }
    const before = seen?.byKey ?? new Map<string, PinRecord>();
    for (const record of byKey.values()) this.#contribute(source.source, before, record);
    this.#sources.set(source.source, { pins: source.pins, byKey });
  }

  /** `record` is now what `source` pins for its key; `known` is what it pinned (updated). */
  #contribute(source: string, known: Map<string, PinRecord>, record: PinRecord): void {
    const { key } = record;
    const before = known.get(key);
    known.set(key, record);
    const contributions = this.#contributions.get(key);
    // A new array is made with its one element: one pushed onto [] would take room for 17.
    if (contributions === undefined) this.#contributions.set(key, [{ source, record }]);
    else {
      const mine = contributions.find((c) => c.source === source);
      if (mine === undefined) contributions.push({ source, record });
      else mine.record = record;
    }
    // The same pin read again (only its line moved): kept as it is in the index.
    if (before === undefined || !samePin(before, record)) this.#dirty.add(key);
  }

  #withdraw(key: string, source: string): void {
    const left = (this.#contributions.get(key) ?? []).filter((c) => c.source !== source);
    if (left.length === 0) this.#contributions.delete(key);
    else this.#contributions.set(key, left);
    this.#dirty.add(key);
  }

  /** The record mergePins keeps for `key`: the richest, the earliest source's on a tie. */
  #winner(key: string, position: ReadonlyMap<string, number>): PinRecord | undefined {
    let best: Contribution | undefined;
    for (const c of this.#inOrder(key, position)) {
      if (best === undefined || richness(c.record) > richness(best.record)) best = c;
    }
    // Unchanged records keep the object already in the index (its line may be older).
    const kept = this.#index.get(key);
    return best !== undefined && kept !== undefined && samePin(kept, best.record)
      ? kept
      : best?.record;
  }

  #inOrder(key: string, position: ReadonlyMap<string, number>): Contribution[] {
    return (this.#contributions.get(key) ?? []).toSorted(
      (a, b) => (position.get(a.source) ?? 0) - (position.get(b.source) ?? 0),
    );
  }

  /** The issues mergePins reports, for the keys pinned to two digests. */
  #issues(position: ReadonlyMap<string, number>): PolicyIssue[] {
    const issues: { at: number; issue: PolicyIssue }[] = [];
    for (const key of this.#conflicted) {
      let kept: Contribution | undefined;
      for (const c of this.#inOrder(key, position)) {
        if (kept === undefined) kept = c;
        else if (kept.record.digest !== c.record.digest) {
          const issue = conflict(c.record, c.source, kept.record, kept.source);
          issues.push({ at: position.get(c.source) ?? 0, issue });
        } else if (richness(c.record) > richness(kept.record)) kept = c;
      }
    }
    return issues
      .sort((a, b) => a.at - b.at || a.issue.line - b.issue.line)
      .map((entry) => entry.issue);
  }
}

/** Whether the names both lists share come in the same order (a source added or gone is fine). */
function keepsOrder(before: readonly string[], after: readonly string[]): boolean {
  const kept = new Set(after);
  const surviving = before.filter((name) => kept.has(name));
  const earlier = new Set(before);
  const again = after.filter((name) => earlier.has(name));
  return surviving.every((name, index) => again[index] === name);
}

/** The same pin, whatever line it is on: digest, who, when, why, platforms and history. */
export function samePin(a: PinRecord, b: PinRecord): boolean {
  if (a === b) return true;
  if (a.digest !== b.digest || a.key !== b.key) return false;
  if (a.pinnedAt !== b.pinnedAt || a.pinnedBy !== b.pinnedBy || a.reason !== b.reason) return false;
  if (!sameStrings(a.platforms, b.platforms)) return false;
  return (
    a.history.length === b.history.length &&
    a.history.every((entry, index) => sameEntry(entry, b.history[index]))
  );
}

function sameStrings(
  a: Readonly<Record<string, string>> | undefined,
  b: Readonly<Record<string, string>> | undefined,
): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

function sameEntry(a: PinHistoryEntry, b: PinHistoryEntry | undefined): boolean {
  return b !== undefined && JSON.stringify(a) === JSON.stringify(b);
}
