import { PolicyInvalidError, type PinRecord, type PolicyIssue } from "../document/index.ts";
import { PinIndex } from "./pin-index.ts";

/** Pins from one place: the policy document, a pins ConfigMap, a file. */
export interface PinSource {
  /** A file name or `configmap NAMESPACE/NAME`. */
  readonly source: string;
  readonly pins: readonly PinRecord[];
}

/**
 * One PinIndex from several sources (PolicyDocument and PinsDocument are PinSources). A key
 * pinned to two different digests is an error naming both places (all such conflicts are
 * reported in one PolicyInvalidError); the same digest twice is fine, and the richer record is
 * kept (the earlier source's on a tie). Linear in the number of pins.
 */
export function mergePins(sources: readonly PinSource[]): PinIndex {
  const merged = new Map<string, { record: PinRecord; source: string }>();
  const issues: PolicyIssue[] = [];
  for (const { source, pins } of sources) {
    for (const record of pins) {
      const earlier = merged.get(record.key);
      if (earlier === undefined) {
        merged.set(record.key, { record, source });
      } else if (earlier.record.digest !== record.digest) {
        issues.push(conflict(record, source, earlier.record, earlier.source));
      } else if (richness(record) > richness(earlier.record)) {
        merged.set(record.key, { record, source });
      }
    }
  }
  if (issues.length > 0) throw new PolicyInvalidError(issues);
  return PinIndex.of(Array.from(merged.values(), (entry) => entry.record));
}

export function conflict(
  record: PinRecord,
  source: string,
  earlier: PinRecord,
  earlierSource: string,
): PolicyIssue {
  const there = earlier.origin === undefined ? earlierSource : where(earlier.origin);
  return {
    source: record.origin?.source ?? source,
    line: record.origin?.line ?? 0,
    column: record.origin?.column ?? 0,
    path: `pins[${JSON.stringify(record.key)}]`,
    message:
      `pinned to ${record.digest} here but to ${earlier.digest} in ${there}; ` +
      `a tag has one pin: remove one of them`,
  };
}

function where(origin: NonNullable<PinRecord["origin"]>): string {
  return origin.line > 0 ? `${origin.source}:${origin.line}:${origin.column}` : origin.source;
}

/** How much a record tells: history first, then who/when/why, then platforms. */
export function richness(record: PinRecord): number {
  const told = [record.pinnedAt, record.pinnedBy, record.reason].filter((v) => v !== undefined);
  const platforms = Object.keys(record.platforms ?? {}).length;
  return record.history.length * 1_000_000 + told.length * 10_000 + Math.min(platforms, 9_999);
}
