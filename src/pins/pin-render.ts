import { Document, Scalar, YAMLMap, YAMLSeq, type Node } from "yaml";
import {
  API_VERSION,
  HISTORY_FIELDS,
  reviewNode,
  type PinHistoryEntry,
  type PinRecord,
} from "../policy/index.ts";

/** A pin's value as written under its key. */
export type PinValue = Omit<PinRecord, "key" | "origin">;

const RENDER_OPTIONS = { lineWidth: 0, flowCollectionPadding: false } as const;
const TIMES: ReadonlySet<string> = new Set(["pinnedAt", "replacedAt"]);

/** A scalar as digestpin writes it: times double-quoted (YAML 1.1 readers see strings too). */
export function scalarNode(field: string, value: string): Scalar {
  const node = new Scalar(value);
  if (TIMES.has(field)) node.type = Scalar.QUOTE_DOUBLE;
  return node;
}

/** The mapping a pin record is written as (`digest`, who/when/why, platforms, history). */
export function recordNode(value: PinValue): YAMLMap {
  const map = new YAMLMap();
  map.add({ key: new Scalar("digest"), value: new Scalar(value.digest) });
  for (const field of ["pinnedAt", "pinnedBy", "reason"] as const) {
    const text = value[field];
    if (text !== undefined) map.add({ key: new Scalar(field), value: scalarNode(field, text) });
  }
  const platforms = platformsNode(value.platforms);
  if (platforms !== undefined) map.add({ key: new Scalar("platforms"), value: platforms });
  if (value.history.length > 0) {
    const history = new YAMLSeq();
    for (const entry of value.history) history.items.push(historyNode(entry));
    map.add({ key: new Scalar("history"), value: history });
  }
  return map;
}

export function platformsNode(
  platforms: Readonly<Record<string, string>> | undefined,
): YAMLMap | undefined {
  const entries = Object.entries(platforms ?? {});
  if (entries.length === 0) return undefined;
  const map = new YAMLMap();
  for (const [platform, digest] of entries) {
    map.add({ key: new Scalar(platform), value: new Scalar(digest) });
  }
  return map;
}

export function historyNode(entry: PinHistoryEntry): YAMLMap {
  const map = new YAMLMap();
  map.add({ key: new Scalar("digest"), value: new Scalar(entry.digest) });
  for (const field of HISTORY_FIELDS) {
    const text = entry[field];
    if (text !== undefined) map.add({ key: new Scalar(field), value: scalarNode(field, text) });
  }
  if (entry.review !== undefined)
    map.add({ key: new Scalar("review"), value: reviewNode(entry.review) });
  return map;
}

/**
 * The lines of one `key: value` entry at column `indent`. `writtenKey` is the key exactly as
 * it was written (kept when an entry is replaced); otherwise `key` is written as YAML needs.
 * `comment` (`# …`) goes at the end of the key's line.
 */
export function renderEntry(
  key: string,
  writtenKey: string | undefined,
  value: Node,
  indent: number,
  comment = "",
): string[] {
  const placeholder = "k";
  const doc = new Document(new YAMLMap(), { version: "1.2" });
  (doc.contents as YAMLMap).add({
    key: new Scalar(writtenKey === undefined ? key : placeholder),
    value,
  });
  const lines = doc.toString(RENDER_OPTIONS).replace(/\n+$/, "").split("\n");
  const [first = "", ...rest] = lines;
  const head = writtenKey === undefined ? first : writtenKey + first.slice(placeholder.length);
  const pad = " ".repeat(indent);
  return [
    `${pad}${head}${comment === "" ? "" : ` ${comment}`}`,
    ...rest.map((line) => (line === "" ? line : pad + line)),
  ];
}

/** A `kind: Pins` document without pins, with `comment` lines (`# …`) above `pins`. */
export function emptyPinsText(comment: readonly string[] = []): string {
  const header = `apiVersion: ${API_VERSION}\nkind: Pins\n`;
  return header + comment.map((line) => `# ${line}\n`).join("") + "pins: {}\n";
}
