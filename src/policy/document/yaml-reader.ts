import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from "yaml";
import { quote } from "../../errors.ts";
import type { PolicyIssue } from "./issues.ts";

/** One `key: value` of a mapping, with the nodes to point at. */
export interface Entry {
  readonly key: string;
  readonly keyNode: Node;
  /** null when the value is absent or YAML null (`key:` or `key: null`). */
  readonly value: Node | null;
}

/** `a.b`, `a["x.y"]`: how a path to a child is written in messages. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return path === "" ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

/** What a YAML node is, for "expected X, got Y" messages. */
export function describeNode(node: Node): string {
  if (isMap(node)) return "a mapping";
  if (isSeq(node)) return "a list";
  if (isScalar(node)) {
    const value = node.value;
    if (typeof value === "string") return quote(value);
    if (typeof value === "number" || typeof value === "bigint")
      return `the number ${String(value)}`;
    if (typeof value === "boolean") return `the boolean ${String(value)}`;
  }
  return "a value";
}

/**
 * Reads a parsed YAML document against a schema, collecting every problem (with its YAML path
 * and line:column) instead of stopping at the first. Readers return undefined for a value that
 * was wrong (after recording why) or absent; callers substitute defaults.
 */
export class YamlReader {
  readonly issues: PolicyIssue[] = [];

  constructor(
    readonly source: string,
    private readonly document: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Records a problem at the start of `node` (or at `offset` when there is no node). */
  fail(node: Node | null | undefined, path: string, message: string, offset = 0): void {
    this.issues.push({ source: this.source, ...this.position(node, offset), path, message });
  }

  position(node: Node | null | undefined, offset = 0): { line: number; column: number } {
    const { line, col } = this.lines.linePos(node?.range?.[0] ?? offset);
    return { line: Math.max(line, 1), column: col };
  }

  /** The node itself, an alias resolved, or null for absence and YAML null. */
  resolve(node: unknown): Node | null {
    let current = node;
    if (isAlias(current)) current = current.resolve(this.document);
    if (current === null || current === undefined) return null;
    if (isScalar(current) && current.value === null) return null;
    return isMap(current) || isSeq(current) || isScalar(current) ? current : null;
  }

  /** The entries of a mapping with string keys, in order; non-string keys are recorded. */
  entries(node: Node, path: string, what = "a mapping"): Entry[] | undefined {
    if (!isMap(node)) {
      this.fail(node, path, `expected ${what}, got ${describeNode(node)}`);
      return undefined;
    }
    const entries: Entry[] = [];
    const seen = new Map<string, Node>();
    for (const pair of node.items) {
      const keyNode = this.resolve(pair.key);
      if (keyNode === null || !isScalar(keyNode) || typeof keyNode.value !== "string") {
        const at = keyNode ?? node;
        this.fail(
          at,
          path,
          `keys must be strings, got ${keyNode === null ? "null" : describeNode(keyNode)}`,
        );
        continue;
      }
      const earlier = seen.get(keyNode.value);
      if (earlier !== undefined) {
        const { line, column } = this.position(earlier);
        const message = `duplicate key ${quote(keyNode.value)}: already at line ${line}:${column}`;
        this.fail(keyNode, childPath(path, keyNode.value), message);
        continue;
      }
      seen.set(keyNode.value, keyNode);
      entries.push({ key: keyNode.value, keyNode, value: this.resolve(pair.value) });
    }
    return entries;
  }

  /** A mapping with a fixed set of keys; unknown keys are recorded, naming the allowed ones. */
  fields(node: Node, path: string, allowed: readonly string[]): Map<string, Entry> | undefined {
    const entries = this.entries(node, path);
    if (entries === undefined) return undefined;
    const fields = new Map<string, Entry>();
    for (const entry of entries) {
      if (allowed.includes(entry.key)) fields.set(entry.key, entry);
      else this.fail(entry.keyNode, childPath(path, entry.key), unknownKey(entry.key, allowed));
    }
    return fields;
  }

  string(node: Node, path: string): string | undefined {
    if (isScalar(node) && typeof node.value === "string") return node.value;
    this.fail(node, path, `expected a string, got ${describeNode(node)}`);
    return undefined;
  }

  boolean(node: Node, path: string): boolean | undefined {
    if (isScalar(node) && typeof node.value === "boolean") return node.value;
    this.fail(node, path, `expected true or false, got ${describeNode(node)}`);
    return undefined;
  }

  oneOf<T extends string>(node: Node, path: string, values: readonly T[]): T | undefined {
    const value = this.string(node, path);
    if (value === undefined) return undefined;
    const found = values.find((v) => v === value);
    if (found === undefined) {
      this.fail(node, path, `${quote(value)} is not one of ${values.join(", ")}`);
    }
    return found;
  }

  /** The items of a list, aliases resolved; null items are recorded as errors. */
  list(node: Node, path: string): { node: Node; path: string }[] | undefined {
    if (!isSeq(node)) {
      this.fail(node, path, `expected a list, got ${describeNode(node)}`);
      return undefined;
    }
    const items: { node: Node; path: string }[] = [];
    node.items.forEach((raw, index) => {
      const item = this.resolve(raw);
      const itemPath = childPath(path, index);
      if (item === null)
        this.fail(isScalar(raw) ? raw : node, itemPath, "expected a value, got null");
      else items.push({ node: item, path: itemPath });
    });
    return items;
  }

  /** A list of strings. */
  strings(node: Node, path: string): { value: string; node: Node; path: string }[] | undefined {
    const items = this.list(node, path);
    if (items === undefined) return undefined;
    return items.flatMap((item) => {
      const value = this.string(item.node, item.path);
      return value === undefined ? [] : [{ value, node: item.node, path: item.path }];
    });
  }
}

/** "unknown key …; expected one of …", with a suggestion when a close one exists. */
export function unknownKey(key: string, allowed: readonly string[]): string {
  const near = allowed.find((candidate) => similar(candidate, key));
  const hint = near === undefined ? "" : ` (did you mean ${quote(near)}?)`;
  return `unknown key ${quote(key)}${hint}; expected one of ${allowed.join(", ")}`;
}

/** Same letters ignoring case and "-"/"_", or at most two edits apart. */
function similar(a: string, b: string): boolean {
  const fold = (s: string): string => s.toLowerCase().replace(/[-_]/g, "");
  if (fold(a) === fold(b)) return true;
  return Math.abs(a.length - b.length) <= 2 && editDistance(a, b) <= 2;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(
        Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
