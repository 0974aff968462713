import { isScalar, Scalar, YAMLMap, YAMLSeq, type Node } from "yaml";
import type { PinReview } from "./schema.ts";
import { childPath, describeNode, type YamlReader } from "./yaml-reader.ts";

/**
 * A history entry's `review`: what `digestpin approve --with-diff` saw when it replaced the
 * digest — one line per platform on its layers and base, the counts of files added, removed
 * and changed, and the first paths.
 */
export const REVIEW_KEYS = ["summary", "added", "removed", "changed", "paths"] as const;

/** Paths kept in a review: enough to recognize the change, little enough for a ConfigMap. */
export const REVIEW_PATHS = 10;

export function readReview(reader: YamlReader, node: Node, path: string): PinReview | undefined {
  const fields = reader.fields(node, path, REVIEW_KEYS);
  if (fields === undefined) return undefined;
  const review: { -readonly [K in keyof PinReview]: PinReview[K] } = {};
  const summary = fields.get("summary")?.value ?? null;
  if (summary !== null) {
    const text = reader.string(summary, childPath(path, "summary"));
    if (text !== undefined) review.summary = text;
  }
  for (const key of ["added", "removed", "changed"] as const) {
    const value = fields.get(key)?.value ?? null;
    if (value === null) continue;
    const count = isScalar(value) ? value.value : undefined;
    if (typeof count === "number" && Number.isInteger(count) && count >= 0) review[key] = count;
    else
      reader.fail(
        value,
        childPath(path, key),
        `expected a count (0, 1, …), got ${describeNode(value)}`,
      );
  }
  const paths = fields.get("paths")?.value ?? null;
  if (paths !== null) {
    const items = reader.strings(paths, childPath(path, "paths"));
    if (items !== undefined) review.paths = items.map((item) => item.value);
  }
  return review;
}

/** The mapping a review is written as. */
export function reviewNode(review: PinReview): YAMLMap {
  const map = new YAMLMap();
  if (review.summary !== undefined)
    map.add({ key: new Scalar("summary"), value: new Scalar(review.summary) });
  for (const key of ["added", "removed", "changed"] as const) {
    const count = review[key];
    if (count !== undefined) map.add({ key: new Scalar(key), value: new Scalar(count) });
  }
  if (review.paths !== undefined && review.paths.length > 0) {
    const list = new YAMLSeq();
    for (const path of review.paths) list.items.push(new Scalar(path));
    map.add({ key: new Scalar("paths"), value: list });
  }
  return map;
}
