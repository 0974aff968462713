import { isMap, isScalar, type Node } from "yaml";
import { quote } from "../../errors.ts";
import { nameOf, pinKeyOf, tryParseReference } from "../../reference/index.ts";
import { digestProblem, platformProblem, timestampProblem } from "./formats.ts";
import { readReview } from "./pin-review.ts";
import type { PlainPin } from "./plain-pins.ts";
import { HISTORY_FIELDS, type PinHistoryEntry, type PinRecord, type RemovedPin } from "./schema.ts";
import { childPath, describeNode, type Entry, type YamlReader } from "./yaml-reader.ts";

const PIN_KEYS = ["digest", "pinnedAt", "pinnedBy", "reason", "platforms", "history"];
const TIMES: readonly string[] = ["pinnedAt", "replacedAt"];

type Metadata = Partial<Record<(typeof HISTORY_FIELDS)[number], string>>;

/**
 * `pins`: canonical or familiar `name:tag` → a digest, or a mapping with the digest and its
 * record. Keys are normalized; two spellings of one key are an error naming both lines.
 */
export function readPins(reader: YamlReader, node: Node, path: string): PinRecord[] {
  const entries = reader.entries(node, path, "a mapping of image:tag to digest") ?? [];
  const seen = new Map<string, { written: string; line: number; column: number }>();
  const pins: PinRecord[] = [];
  for (const entry of entries) {
    const pinPath = `${path}[${JSON.stringify(entry.key)}]`;
    const key = readKey(reader, entry, pinPath);
    const { line, column } = reader.position(entry.keyNode);
    if (key !== undefined) {
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        const also = earlier.written === key ? "" : ` (${quote(earlier.written)})`;
        reader.fail(
          entry.keyNode,
          pinPath,
          `${quote(key)} is already pinned at line ${earlier.line}:${earlier.column}${also}; keep one`,
        );
        continue;
      }
      seen.set(key, { written: entry.key, line, column });
    }
    const record = readRecord(reader, entry, pinPath);
    if (key !== undefined && record !== undefined) {
      pins.push({ key, ...record, origin: { source: reader.source, line, column } });
    }
  }
  return pins;
}

/**
 * `removed`: pins taken out of force, each with the history that records its digests and who
 * removed it (`digestpin pins remove`). Keys as in `pins`; each key once.
 */
export function readRemoved(reader: YamlReader, node: Node, path: string): RemovedPin[] {
  const entries = reader.entries(node, path, "a mapping of image:tag to its history") ?? [];
  const seen = new Set<string>();
  const removed: RemovedPin[] = [];
  for (const entry of entries) {
    const entryPath = `${path}[${JSON.stringify(entry.key)}]`;
    const key = readKey(reader, entry, entryPath);
    if (key !== undefined && seen.has(key)) {
      reader.fail(entry.keyNode, entryPath, `${quote(key)} is listed twice; keep one`);
      continue;
    }
    if (key !== undefined) seen.add(key);
    if (entry.value === null) {
      reader.fail(entry.keyNode, entryPath, "a history is required");
      continue;
    }
    const fields = reader.fields(entry.value, entryPath, ["history"]);
    const historyNode = fields?.get("history")?.value ?? null;
    if (fields !== undefined && historyNode === null) {
      reader.fail(entry.value, `${entryPath}.history`, "is required");
      continue;
    }
    const history =
      historyNode === null ? [] : readHistory(reader, historyNode, `${entryPath}.history`);
    if (key !== undefined && historyNode !== null) removed.push({ key, history });
  }
  return removed;
}

/** The history of the pins that have none (nearly all): one array, not one per pin. */
const NO_HISTORY: readonly PinHistoryEntry[] = Object.freeze([]);

/**
 * The records of pins read line by line (plain-pins.ts), checked as readPins checks them; or
 * undefined when any key, digest or time is wrong or a key is pinned twice: then readPins
 * reads yaml's nodes and says what is wrong, where.
 */
export function plainPinRecords(
  pins: readonly PlainPin[],
  source: string,
  pinKeys?: Map<string, string | null>,
): PinRecord[] | undefined {
  const seen = new Set<string>();
  const records: PinRecord[] = [];
  for (const pin of pins) {
    let key = pinKeys?.get(pin.written);
    if (key === undefined) {
      key = plainPinKey(pin.written);
      pinKeys?.set(pin.written, key);
    }
    if (key === null || seen.has(key)) return undefined;
    seen.add(key);
    if (digestProblem(pin.digest) !== null) return undefined;
    if (pin.pinnedAt !== undefined && timestampProblem(pin.pinnedAt) !== null) return undefined;
    const metadata: Metadata = {};
    if (pin.pinnedAt !== undefined) metadata.pinnedAt = pin.pinnedAt;
    if (pin.pinnedBy !== undefined) metadata.pinnedBy = pin.pinnedBy;
    if (pin.reason !== undefined) metadata.reason = pin.reason;
    const origin = { source, line: pin.line, column: pin.column };
    records.push({ key, digest: pin.digest, ...metadata, history: NO_HISTORY, origin });
  }
  return records;
}

/** The canonical key of a pin key as written, or null when it names a digest or no tag. */
function plainPinKey(written: string): string | null {
  const parsed = tryParseReference(written);
  if (!parsed.ok || parsed.reference.digest !== null) return null;
  return pinKeyOf(parsed.reference);
}

function readKey(reader: YamlReader, entry: Entry, path: string): string | undefined {
  const parsed = tryParseReference(entry.key);
  if (!parsed.ok) {
    reader.fail(entry.keyNode, path, `not an image reference: ${parsed.error.message}`);
    return undefined;
  }
  const ref = parsed.reference;
  if (ref.digest !== null) {
    const tagged = ref.tag === null ? `${nameOf(ref)}:TAG` : `${nameOf(ref)}:${ref.tag}`;
    reader.fail(
      entry.keyNode,
      path,
      `a pin key names a tag, not a digest: write ${quote(tagged)} and put the digest in the value`,
    );
    return undefined;
  }
  return pinKeyOf(ref) ?? undefined;
}

type RecordBody = Omit<PinRecord, "key" | "origin">;

function readRecord(reader: YamlReader, entry: Entry, path: string): RecordBody | undefined {
  const node = entry.value;
  if (node === null) {
    reader.fail(entry.keyNode, path, 'a digest is required, e.g. "sha256:" and 64 hex digits');
    return undefined;
  }
  if (isScalar(node)) {
    const digest = readDigest(reader, node, path);
    return digest === undefined ? undefined : { digest, history: NO_HISTORY };
  }
  if (!isMap(node)) {
    reader.fail(
      node,
      path,
      `expected a digest or a mapping with digest, got ${describeNode(node)}`,
    );
    return undefined;
  }
  const fields = reader.fields(node, path, PIN_KEYS);
  if (fields === undefined) return undefined;
  const digest = requiredDigest(reader, node, fields, path);
  const metadata = readMetadata(reader, fields, path, ["pinnedAt", "pinnedBy", "reason"]);
  const platformsNode = fields.get("platforms")?.value ?? null;
  const platforms =
    platformsNode === null ? undefined : readPlatforms(reader, platformsNode, `${path}.platforms`);
  const historyNode = fields.get("history")?.value ?? null;
  const history = historyNode === null ? [] : readHistory(reader, historyNode, `${path}.history`);
  if (digest === undefined) return undefined;
  return platforms === undefined
    ? { digest, ...metadata, history }
    : { digest, ...metadata, platforms, history };
}

function readHistory(reader: YamlReader, node: Node, path: string): PinHistoryEntry[] {
  const history: PinHistoryEntry[] = [];
  for (const item of reader.list(node, path) ?? []) {
    const fields = reader.fields(item.node, item.path, ["digest", ...HISTORY_FIELDS, "review"]);
    if (fields === undefined) continue;
    const digest = requiredDigest(reader, item.node, fields, item.path);
    const metadata = readMetadata(reader, fields, item.path, HISTORY_FIELDS);
    const reviewNode = fields.get("review")?.value ?? null;
    const review =
      reviewNode === null ? undefined : readReview(reader, reviewNode, `${item.path}.review`);
    if (digest !== undefined)
      history.push({ digest, ...metadata, ...(review !== undefined && { review }) });
  }
  return history;
}

function readPlatforms(reader: YamlReader, node: Node, path: string): Record<string, string> {
  const platforms: Record<string, string> = {};
  for (const entry of reader.entries(node, path) ?? []) {
    const entryPath = `${path}[${JSON.stringify(entry.key)}]`;
    const problem = platformProblem(entry.key);
    if (problem !== null) reader.fail(entry.keyNode, entryPath, problem);
    if (entry.value === null) reader.fail(entry.keyNode, entryPath, "a digest is required");
    const digest = entry.value === null ? undefined : readDigest(reader, entry.value, entryPath);
    if (problem === null && digest !== undefined) platforms[entry.key] = digest;
  }
  return platforms;
}

function requiredDigest(
  reader: YamlReader,
  parent: Node,
  fields: ReadonlyMap<string, Entry>,
  path: string,
): string | undefined {
  const node = fields.get("digest")?.value ?? null;
  if (node !== null) return readDigest(reader, node, `${path}.digest`);
  reader.fail(parent, `${path}.digest`, 'is required, e.g. "sha256:" and 64 hex digits');
  return undefined;
}

function readDigest(reader: YamlReader, node: Node, path: string): string | undefined {
  const text = reader.string(node, path);
  if (text === undefined) return undefined;
  const problem = digestProblem(text);
  if (problem === null) return text;
  reader.fail(node, path, problem);
  return undefined;
}

function readMetadata(
  reader: YamlReader,
  fields: ReadonlyMap<string, Entry>,
  path: string,
  keys: readonly (keyof Metadata)[],
): Metadata {
  const metadata: Metadata = {};
  for (const key of keys) {
    const node = fields.get(key)?.value ?? null;
    if (node === null) continue;
    const text = reader.string(node, childPath(path, key));
    const problem = text === undefined || !TIMES.includes(key) ? null : timestampProblem(text);
    if (problem !== null) reader.fail(node, childPath(path, key), problem);
    else if (text !== undefined) metadata[key] = text;
  }
  return metadata;
}
