import { differences, type ChangeOrigin, type FileChange, type Side } from "./file-compare.ts";
import { joinPath } from "./layer-changes.ts";
import type { OverlayNode, Placed } from "./overlay.ts";
import type { TarEntry } from "./tar-reader.ts";

/**
 * A path's state in one image's stack above the shared base: written by a layer, deleted by a
 * layer (itself or a directory above it), or untouched (whatever the base has).
 */
type State =
  | { readonly kind: "entry"; readonly placed: Placed }
  | { readonly kind: "absent"; readonly layer: number }
  | { readonly kind: "base" };

interface Question {
  readonly path: string;
  readonly pinned: State;
  readonly current: State;
}

/** The comparison of the two stacks so far, and what only the base can answer. */
export interface OverlayComparison {
  /** Changes known without the base. */
  readonly changes: FileChange[];
  /** Paths one stack touched and the other left to the base: the base's entry decides. */
  readonly questions: readonly Question[];
  /** Directories below which one stack hides the base's contents and the other does not. */
  readonly hiddenRoots: readonly { readonly path: string; readonly origin: ChangeOrigin }[];
  /** Whether the base's entry for `path` matters (the paths to remember when reading it). */
  readonly needs: (path: string) => boolean;
}

const BASE: State = { kind: "base" };

/**
 * Compares two stacks of layers that sit on the same base (the layers both images share):
 * `pinned` and `current` are overlays with markers. Where the outcome depends on the base, it
 * says so instead of guessing; finish() answers with the base's entries.
 */
export function compareOverlays(pinned: OverlayNode, current: OverlayNode): OverlayComparison {
  const changes: FileChange[] = [];
  const questions: Question[] = [];
  const hiddenRoots: { path: string; origin: ChangeOrigin }[] = [];
  const walk = (
    path: string,
    p: OverlayNode | undefined,
    c: OverlayNode | undefined,
    coverP: number | undefined,
    coverC: number | undefined,
  ): void => {
    const sP = stateOf(p, coverP);
    const sC = stateOf(c, coverC);
    if (sP.kind === "base" || sC.kind === "base") {
      if (sP.kind !== sC.kind) questions.push({ path, pinned: sP, current: sC });
    } else {
      const change = compareStates(path, sP, sC);
      if (change !== undefined) changes.push(change);
    }
    const belowP = p?.cleared ?? coverP;
    const belowC = c?.cleared ?? coverC;
    if (
      (belowP === undefined) !== (belowC === undefined) &&
      (coverP === undefined) === (coverC === undefined)
    ) {
      const origin: ChangeOrigin =
        belowC !== undefined
          ? { side: "current", layer: belowC }
          : { side: "pinned", layer: belowP ?? 0 };
      hiddenRoots.push({ path, origin });
    }
    const names = new Set([...(p?.children?.keys() ?? []), ...(c?.children?.keys() ?? [])]);
    for (const name of [...names].sort()) {
      walk(joinPath(path, name), p?.children?.get(name), c?.children?.get(name), belowP, belowC);
    }
  };
  walk("/", pinned, current, undefined, undefined);
  const asked = new Set(questions.map((q) => q.path));
  const roots = new Set(hiddenRoots.map((r) => r.path));
  const needs = (path: string): boolean => {
    if (asked.has(path) || roots.has("/")) return true;
    for (let slash = path.indexOf("/", 1); ; slash = path.indexOf("/", slash + 1)) {
      if (roots.has(slash === -1 ? path : path.slice(0, slash))) return true;
      if (slash === -1) return false;
    }
  };
  return { changes, questions, hiddenRoots, needs };
}

/**
 * The full comparison once the base is known (`base`: its entries for the paths `needs`
 * names), or, without it, with `unknown` changes where the base would have decided.
 */
export function finishComparison(
  comparison: OverlayComparison,
  pinned: OverlayNode,
  current: OverlayNode,
  base: ReadonlyMap<string, TarEntry> | undefined,
): FileChange[] {
  const changes = [...comparison.changes];
  const roots = new Set(comparison.hiddenRoots.map((root) => root.path));
  for (const question of comparison.questions) {
    if (base === undefined) {
      changes.push(unknownChange(question, roots.has(question.path)));
      continue;
    }
    const entry = base.get(question.path);
    const change = compareStates(
      question.path,
      resolveBase(question.pinned, entry),
      resolveBase(question.current, entry),
      question,
    );
    if (change !== undefined) changes.push(change);
  }
  if (base === undefined) {
    const asked = new Set(comparison.questions.map((question) => question.path));
    for (const root of comparison.hiddenRoots) {
      if (asked.has(root.path)) continue; // the question's own unknown says it
      changes.push({
        kind: "unknown",
        path: root.path,
        before: undefined,
        after: undefined,
        differences: [],
        origin: root.origin,
        subtree: true,
      });
    }
  } else {
    // The base's entries below a directory one stack hides and the other does not.
    for (const [path, entry] of base) {
      if (pinnedOrCurrentTouches(pinned, current, path)) continue;
      const sP = coverOf(pinned, path);
      const sC = coverOf(current, path);
      const change = compareStates(path, resolveBase(sP, entry), resolveBase(sC, entry), {
        path,
        pinned: sP,
        current: sC,
      });
      if (change !== undefined) changes.push(change);
    }
  }
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function stateOf(node: OverlayNode | undefined, cover: number | undefined): State {
  if (node?.placed !== undefined) return { kind: "entry", placed: node.placed };
  if (node?.deleted !== undefined) return { kind: "absent", layer: node.deleted };
  if (cover !== undefined) return { kind: "absent", layer: cover };
  return BASE;
}

/** The state with the base filled in: a base entry is placed by no layer of either stack. */
function resolveBase(state: State, entry: TarEntry | undefined): State {
  if (state.kind !== "base") return state;
  return entry === undefined
    ? { kind: "absent", layer: -1 }
    : { kind: "entry", placed: { entry, layer: -1 } };
}

/**
 * The change between two resolved states, if any. The origin is the layer that made the
 * current image's state when it has one, else the pinned layer the current image lacks.
 */
function compareStates(
  path: string,
  pinned: State,
  current: State,
  asked?: Question,
): FileChange | undefined {
  const before = pinned.kind === "entry" ? pinned.placed.entry : undefined;
  const after = current.kind === "entry" ? current.placed.entry : undefined;
  let kind: FileChange["kind"];
  let found: FileChange["differences"] = [];
  if (before === undefined && after === undefined) return undefined;
  if (before === undefined) kind = "added";
  else if (after === undefined) kind = "removed";
  else {
    found = differences(before, after);
    if (found.length === 0) return undefined;
    kind = "changed";
  }
  return {
    kind,
    path,
    before,
    after,
    differences: found,
    origin: originOf(asked ?? { path, pinned, current }),
  };
}

function originOf(question: Question): ChangeOrigin {
  const layer = (state: State): number | undefined =>
    state.kind === "entry" ? state.placed.layer : state.kind === "absent" ? state.layer : undefined;
  const current = layer(question.current);
  if (current !== undefined && current >= 0) return { side: "current", layer: current };
  return { side: "pinned", layer: Math.max(0, layer(question.pinned) ?? 0) };
}

function unknownChange(question: Question, hidesBelow: boolean): FileChange {
  const side: Side = question.current.kind === "base" ? "pinned" : "current";
  const state = side === "current" ? question.current : question.pinned;
  const entry = state.kind === "entry" ? state.placed.entry : undefined;
  return {
    kind: "unknown",
    path: question.path,
    before: side === "pinned" ? entry : undefined,
    after: side === "current" ? entry : undefined,
    differences: [],
    origin: originOf(question),
    ...(hidesBelow && (entry === undefined || entry.type === "dir") && { subtree: true }),
  };
}

/** Whether either stack has a node for `path` (then the walk has compared it already). */
function pinnedOrCurrentTouches(pinned: OverlayNode, current: OverlayNode, path: string): boolean {
  return find(pinned, path) !== undefined || find(current, path) !== undefined;
}

/** A path's state in a stack that has no node for it: hidden by a directory above, or base. */
function coverOf(root: OverlayNode, path: string): State {
  let at: OverlayNode | undefined = root;
  let cover = root.cleared;
  for (const part of path.split("/").filter((p) => p !== "")) {
    at = at.children?.get(part);
    if (at === undefined) break;
    cover = at.cleared ?? cover;
  }
  return cover === undefined ? BASE : { kind: "absent", layer: cover };
}

function find(root: OverlayNode, path: string): OverlayNode | undefined {
  let at: OverlayNode | undefined = root;
  for (const part of path.split("/").filter((p) => p !== "")) {
    at = at.children?.get(part);
    if (at === undefined) return undefined;
  }
  return at;
}
