import { quote } from "../../errors.ts";

/**
 * Globs over canonical image references: `*` matches within one path segment (anything but
 * "/"), `**` matches across segments (anything), every other character matches itself.
 * Matching simulates the pattern as an automaton, so it takes at most
 * length(text) × length(pattern) steps whatever the input: image strings come from whoever
 * creates pods, and a backtracking matcher could be made to spin.
 */
export interface ImageGlob {
  readonly pattern: string;
  matches(text: string): boolean;
}

const STAR = -1; // `*`
const GLOBSTAR = -2; // `**`

/** Why `pattern` cannot be an image glob, or null. */
export function globProblem(pattern: string): string | null {
  if (pattern === "") return "the pattern is empty";
  if (/\s/.test(pattern)) return `${quote(pattern)} contains white space`;
  const first = pattern.split("/", 1)[0] ?? "";
  const registryLike =
    first.includes("*") || first.includes(".") || first.includes(":") || first === "localhost";
  if (!registryLike || !pattern.includes("/")) {
    const canonical = pattern.includes("/")
      ? `docker.io/${pattern}`
      : `docker.io/library/${pattern}`;
    return (
      `${quote(pattern)} never matches: patterns match the canonical reference, which starts ` +
      `with the registry; write ${quote(canonical)}`
    );
  }
  return null;
}

export function compileGlob(pattern: string): ImageGlob {
  const firstWildcard = pattern.indexOf("*");
  if (firstWildcard === -1) return { pattern, matches: (text) => text === pattern };
  const tokens = tokenize(pattern);
  const prefix = pattern.slice(0, firstWildcard);
  return { pattern, matches: (text) => text.startsWith(prefix) && run(tokens, text) };
}

/** Character codes, with STAR and GLOBSTAR for the wildcards (runs of "*" collapsed). */
function tokenize(pattern: string): number[] {
  const tokens: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== "*") {
      tokens.push(pattern.charCodeAt(i));
      continue;
    }
    let run = 1;
    while (pattern[i + 1] === "*") {
      run++;
      i++;
    }
    tokens.push(run > 1 ? GLOBSTAR : STAR);
  }
  return tokens;
}

const SLASH = "/".charCodeAt(0);

function run(tokens: readonly number[], text: string): boolean {
  let states = closure(tokens, new Uint8Array(tokens.length + 1), 0);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const next = new Uint8Array(tokens.length + 1);
    let any = false;
    for (let s = 0; s < tokens.length; s++) {
      if (states[s] !== 1) continue;
      const token = tokens[s];
      if (token === code) next[s + 1] = 1;
      else if (token === GLOBSTAR || (token === STAR && code !== SLASH)) next[s] = 1;
      else continue;
      any = true;
    }
    if (!any) return false;
    states = closure(tokens, next, -1);
  }
  return states[tokens.length] === 1;
}

/** Adds the states reachable by letting wildcards match nothing; `start` ≥ 0 seeds one state. */
function closure(tokens: readonly number[], states: Uint8Array, start: number): Uint8Array {
  if (start >= 0) states[start] = 1;
  for (let s = 0; s < tokens.length; s++) {
    const token = tokens[s] ?? 0;
    if (states[s] === 1 && token < 0) states[s + 1] = 1;
  }
  return states;
}
