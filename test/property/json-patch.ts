/**
 * RFC 6902 `add` and `replace` (all digestpin emits), applied as the API server would: a path
 * that does not fit the object is an error, never a silent no-op.
 */
export function applyPatch(document: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw new Error("a JSON patch is an array");
  let root = structuredClone(document);
  for (const operation of operations as { op?: unknown; path?: unknown; value?: unknown }[]) {
    const { op, path, value } = operation;
    if ((op !== "add" && op !== "replace") || typeof path !== "string") {
      throw new Error(`unexpected operation ${JSON.stringify(operation)}`);
    }
    if (path === "") {
      root = structuredClone(value);
      continue;
    }
    if (!path.startsWith("/")) throw new Error(`path ${path} is not a JSON pointer`);
    const segments = path
      .slice(1)
      .split("/")
      .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
    const last = segments.pop()!;
    let parent: unknown = root;
    for (const segment of segments) parent = child(parent, segment, path);
    if (Array.isArray(parent)) {
      const index = last === "-" ? parent.length : arrayIndex(last, path);
      if (op === "replace") {
        if (index >= parent.length) throw new Error(`replace ${path}: no such element`);
        parent[index] = structuredClone(value);
      } else {
        if (index > parent.length) throw new Error(`add ${path}: index out of range`);
        parent.splice(index, 0, structuredClone(value));
      }
    } else if (typeof parent === "object" && parent !== null) {
      const record = parent as Record<string, unknown>;
      if (op === "replace" && !Object.hasOwn(record, last))
        throw new Error(`replace ${path}: no such member`);
      Object.defineProperty(record, last, {
        value: structuredClone(value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      throw new Error(`${op} ${path}: the parent is not a container`);
    }
  }
  return root;
}

function child(parent: unknown, segment: string, path: string): unknown {
  if (Array.isArray(parent)) {
    const index = arrayIndex(segment, path);
    if (index >= parent.length) throw new Error(`${path}: no element ${segment}`);
    return parent[index];
  }
  if (typeof parent === "object" && parent !== null && Object.hasOwn(parent, segment)) {
    return (parent as Record<string, unknown>)[segment];
  }
  throw new Error(`${path}: no member ${segment}`);
}

function arrayIndex(segment: string, path: string): number {
  if (!/^(0|[1-9]\d*)$/.test(segment)) throw new Error(`${path}: ${segment} is not an index`);
  return Number(segment);
}
