import type { LayerChanges } from "./layer-changes.ts";
import type { TarEntry } from "./tar-reader.ts";

/** An entry and the layer (its index in the image) that wrote it. */
export interface Placed {
  readonly entry: TarEntry;
  readonly layer: number;
}

/** One path of an overlay; read-only outside this module. */
export interface OverlayNode {
  readonly children: ReadonlyMap<string, OverlayNode> | undefined;
  /** The entry the layers wrote here last. */
  readonly placed: Placed | undefined;
  /** The layer that deleted this path (and what was under it) last; only when not placed. */
  readonly deleted: number | undefined;
  /**
   * The layer since which what lay below this path in the layers underneath is hidden (an
   * opaque directory, a whiteout, or a non-directory that replaced a directory).
   */
  readonly cleared: number | undefined;
}

interface Node {
  children: Map<string, Node> | undefined;
  placed: Placed | undefined;
  deleted: number | undefined;
  cleared: number | undefined;
}

const node = (): Node => ({
  children: undefined,
  placed: undefined,
  deleted: undefined,
  cleared: undefined,
});

/**
 * A stack of layers applied in order, as a tree of paths, holding metadata only.
 *
 * With `markers` (layers above an unread base), deletions are recorded as markers: a path the
 * stack deleted, and directories whose lower contents it hides, so that a comparison can tell
 * "deleted here" from "as in the base". Without (a stack read from the bottom), deletions
 * just remove what is there.
 *
 * The OCI rules: a layer's whiteouts and opaque markers apply to the layers below it only, so
 * they are applied before the layer's entries; an entry replaces what was at its path, and a
 * non-directory also removes everything that was under it; a directory over a directory keeps
 * the children.
 */
export class Overlay {
  readonly #root: Node = node();
  readonly #markers: boolean;

  constructor(options: { readonly markers: boolean }) {
    this.#markers = options.markers;
  }

  get root(): OverlayNode {
    return this.#root;
  }

  apply(changes: LayerChanges, layer: number): void {
    for (const path of changes.whiteouts) this.#delete(path, layer);
    for (const dir of changes.opaques) this.#hideBelow(dir, layer);
    for (const { path, entry } of changes.entries) this.#place(path, entry, layer);
  }

  /** The node at `path`, if the stack has touched it. */
  find(path: string): OverlayNode | undefined {
    let at: Node | undefined = this.#root;
    for (const part of parts(path)) {
      at = at.children?.get(part);
      if (at === undefined) return undefined;
    }
    return at;
  }

  /** Every placed entry, depth first in name order (for a stack read from the bottom). */
  *entries(): Generator<Placed> {
    const walk = function* (at: Node): Generator<Placed> {
      if (at.placed !== undefined) yield at.placed;
      for (const name of [...(at.children?.keys() ?? [])].sort()) {
        const child = at.children?.get(name);
        if (child !== undefined) yield* walk(child);
      }
    };
    yield* walk(this.#root);
  }

  #delete(path: string, layer: number): void {
    if (!this.#markers) {
      const [parent, name] = this.#parentOf(path);
      parent?.children?.delete(name);
      return;
    }
    const at = this.#ensure(path);
    at.children = undefined;
    at.placed = undefined;
    at.deleted = layer;
    at.cleared = layer;
  }

  #hideBelow(dir: string, layer: number): void {
    const at = this.#markers ? this.#ensure(dir) : this.find(dir);
    if (at === undefined) return;
    (at as Node).children = undefined;
    if (this.#markers) (at as Node).cleared = layer;
  }

  #place(path: string, entry: TarEntry, layer: number): void {
    let at = this.#root;
    for (const part of parts(path)) {
      // Writing below a path makes it a directory again (implicitly, when the layer has no
      // entry for it): a deletion or a non-directory there no longer holds.
      if (at.placed !== undefined && at.placed.entry.type !== "dir") at.placed = undefined;
      at.deleted = undefined;
      at.children ??= new Map();
      let next = at.children.get(part);
      if (next === undefined) {
        next = node();
        at.children.set(part, next);
      }
      at = next;
    }
    if (entry.type !== "dir") {
      at.children = undefined;
      if (this.#markers) at.cleared = layer;
    }
    at.placed = { entry, layer };
    at.deleted = undefined;
  }

  #ensure(path: string): Node {
    let at = this.#root;
    for (const part of parts(path)) {
      at.children ??= new Map();
      let next = at.children.get(part);
      if (next === undefined) {
        next = node();
        at.children.set(part, next);
      }
      at = next;
    }
    return at;
  }

  #parentOf(path: string): [Node | undefined, string] {
    const list = parts(path);
    const name = list.pop() ?? "";
    let at: Node | undefined = this.#root;
    for (const part of list) {
      at = at.children?.get(part);
      if (at === undefined) break;
    }
    return [at, name];
  }
}

function parts(path: string): string[] {
  return path.split("/").filter((part) => part !== "");
}
