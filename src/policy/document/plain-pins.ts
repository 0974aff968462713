/**
 * The `pins` of a document read line by line instead of by the yaml package, for the shapes
 * large pin sets are written in: `name:tag: sha256:…` (by hand, GitOps), or a mapping of
 * `digest`, `pinnedAt`, `pinnedBy` and `reason` (as `digestpin pin` and trust-on-first-use
 * write them). yaml builds a node for every key and value: for 100,000 pins that is about
 * 2 s and 250 MB at its peak; these lines take a tenth of a second (BENCHMARKS.md).
 *
 * Exactness comes first. A block is read here only when every line of it is in a shape whose
 * YAML meaning is plain: a key line at one indentation, field lines deeper, blank and comment
 * lines; keys and values whose characters YAML reads as the string they are (no quotes but
 * escape-free double quotes, no indicators, no comments after values, nothing YAML would read
 * as a number, boolean or null). Anything else, anywhere in the block, and the caller parses
 * the whole document with yaml as before (checkPolicyDocument), which also explains any error.
 */

/** One pin as written: where its key is, and its values still unchecked. */
export interface PlainPin {
  readonly written: string;
  /** 1-based, as YamlReader.position reports it. */
  readonly line: number;
  readonly column: number;
  readonly digest: string;
  readonly pinnedAt?: string;
  readonly pinnedBy?: string;
  readonly reason?: string;
}

export interface PlainPinsBlock {
  /** The document without the block's lines (those after it move up): `pins:` reads as null. */
  readonly rest: string;
  /** The 1-based line of the top-level `pins:` key. */
  readonly keyLine: number;
  readonly pins: readonly PlainPin[];
  /** Where the block's lines start (after `pins:` and its line break) and end (after the last). */
  readonly start: number;
  readonly end: number;
  /** The indentation of the pins' key lines (-1: no pins). */
  readonly indent: number;
  /** Where each pin's key line starts, in the order of `pins`. */
  readonly starts: readonly number[];
}

const FIELDS = ["digest", "pinnedAt", "pinnedBy", "reason"] as const;
type Field = (typeof FIELDS)[number];

/** A key: an image reference with a tag, in characters a plain YAML key keeps as they are. */
const KEY = /^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
/** A plain value: no leading indicator, no `#`, nothing YAML trims or reads otherwise. */
const PLAIN = /^[A-Za-z_(/][A-Za-z0-9 ()_./:@+=,;!?'-]*$/;
/** A double-quoted value without escapes: printable ASCII only. */
const QUOTED = /^"[ !#-[\]-~]*"$/;
const NOT_A_STRING = /^(?:true|false|null)$/i;
const MAX_KEY = 1000; // yaml refuses implicit keys past 1024 characters

/**
 * The top-level `pins:` block of `text` read line by line, or undefined when the document is
 * not entirely in the shapes above (then yaml must read it).
 */
export function readPlainPins(text: string): PlainPinsBlock | undefined {
  if (text.includes("\r") || text.includes("\t")) return undefined;
  // A directive (%YAML 1.1) may change how plain values read: leave that document to yaml.
  if (text.startsWith("%") || text.includes("\n%")) return undefined;
  const key = keyLineAt(text);
  if (key === undefined) return undefined;
  const lines = new Lines(text, key.end, key.line + 1);
  const block = readBlock(lines);
  if (block === undefined) return undefined;
  // Without the block's lines; the lines after it move up, which matters not: only the `pins:`
  // line's number is compared, and a rest with any issue is read again whole by yaml.
  const after = lines.count === 0 ? key.end : Math.min(text.length, lines.blockEnd + 1);
  const rest = text.slice(0, key.end) + text.slice(after);
  return { rest, keyLine: key.line, start: key.end, end: after, ...block };
}

/** The one line `pins:`: its 1-based number and where the next line starts. */
function keyLineAt(text: string): { line: number; end: number } | undefined {
  const found: number[] = [];
  if (text.startsWith("pins:\n") || text === "pins:") found.push(0);
  for (let at = text.indexOf("\npins:"); at !== -1; at = text.indexOf("\npins:", at + 1)) {
    const after = at + "\npins:".length;
    if (after === text.length || text[after] === "\n") found.push(at + 1);
  }
  const [start] = found;
  if (start === undefined || found.length > 1) return undefined;
  let line = 1;
  for (let at = text.indexOf("\n"); at !== -1 && at < start; at = text.indexOf("\n", at + 1))
    line++;
  const end = start + "pins:".length;
  return { line, end: end < text.length ? end + 1 : end };
}

/** The lines after `pins:` up to the next top-level content (content at column 0, no comment). */
class Lines {
  /** Lines of the block read so far, and where the last one ends. */
  count = 0;
  blockEnd: number;
  #at: number;
  #line: number;

  constructor(
    private readonly text: string,
    start: number,
    line: number,
  ) {
    this.#at = start;
    this.blockEnd = start;
    this.#line = line;
  }

  /** The next line of the block: its number, start, indentation and content; undefined at its end. */
  next(): { line: number; start: number; depth: number; content: string } | undefined {
    const { text } = this;
    if (this.#at >= text.length) return undefined;
    const first = text[this.#at];
    if (first !== " " && first !== "#" && first !== "\n") return undefined;
    let end = text.indexOf("\n", this.#at);
    if (end === -1) end = text.length;
    let depth = 0;
    while (text[this.#at + depth] === " ") depth++;
    const content = text.slice(this.#at + depth, end);
    const line = this.#line;
    const start = this.#at;
    this.count++;
    this.blockEnd = end;
    this.#line++;
    this.#at = end + 1;
    return { line, start, depth, content };
  }
}

function readBlock(
  lines: Lines,
): { pins: PlainPin[]; starts: number[]; indent: number } | undefined {
  const pins: PlainPin[] = [];
  const starts: number[] = [];
  let indent = -1;
  let open:
    | {
        pin: Partial<Record<Field, string>> & { written: string; line: number; column: number };
        indent: number;
      }
    | undefined;
  const close = (): boolean => {
    if (open === undefined) return true;
    const { pin } = open;
    open = undefined;
    if (pin.digest === undefined) return false;
    pins.push({ ...pin, digest: pin.digest });
    return true;
  };
  for (let next = lines.next(); next !== undefined; next = lines.next()) {
    const { line, start, depth, content } = next;
    if (content === "" || content.startsWith("#")) continue;
    if (indent === -1) indent = depth;
    if (depth === indent) {
      if (!close()) return undefined;
      starts.push(start);
      const entry = splitEntry(content);
      if (entry === undefined || !isPlainKey(entry.key)) return undefined;
      const position = { written: entry.key, line, column: depth + 1 };
      if (entry.value === "") open = { pin: position, indent: -1 };
      else if (DIGEST.test(entry.value)) pins.push({ ...position, digest: entry.value });
      else return undefined;
      continue;
    }
    // A field of the open record, all of whose fields share one deeper indentation.
    if (open === undefined || depth < indent || (open.indent !== -1 && depth !== open.indent))
      return undefined;
    open.indent = depth;
    const entry = splitEntry(content);
    const field = FIELDS.find((f) => f === entry?.key);
    if (entry === undefined || field === undefined || open.pin[field] !== undefined)
      return undefined;
    const value = fieldValue(field, entry.value);
    if (value === undefined) return undefined;
    open.pin[field] = value;
  }
  return close() ? { pins, starts, indent } : undefined;
}

/** `key: value` or `key:` (a mapping follows), split at the only `: ` or the final `:`. */
function splitEntry(content: string): { key: string; value: string } | undefined {
  if (content.endsWith(":")) {
    const key = content.slice(0, -1);
    return key.includes(": ") ? undefined : { key, value: "" };
  }
  const at = content.indexOf(": ");
  if (at === -1 || content.includes(": ", at + 1)) return undefined;
  return { key: content.slice(0, at), value: content.slice(at + 2) };
}

function isPlainKey(key: string): boolean {
  return (
    key.length <= MAX_KEY &&
    KEY.test(key) &&
    !key.endsWith(":") &&
    // Digits only, or digits and dots: YAML reads a number. A pin key has a "/" or ":".
    (key.includes("/") || key.includes(":")) &&
    !NOT_A_STRING.test(key)
  );
}

function fieldValue(field: Field, value: string): string | undefined {
  if (field === "digest") return DIGEST.test(value) ? value : undefined;
  if (QUOTED.test(value)) return value.slice(1, -1);
  if (!PLAIN.test(value) || value.endsWith(" ") || value.includes(" #")) return undefined;
  if (value.includes(": ") || value.endsWith(":") || NOT_A_STRING.test(value)) return undefined;
  return value;
}
