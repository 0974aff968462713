/** One challenge of a WWW-Authenticate header: `Bearer realm="…",service="…"`. */
export interface Challenge {
  /** Lowercased scheme: "bearer", "basic", … */
  readonly scheme: string;
  /** Parameters with lowercased names. */
  readonly params: Readonly<Record<string, string>>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

/**
 * Parses a WWW-Authenticate header value into its challenges (RFC 7235 §4.1): several
 * challenges separated by commas, parameters as token or quoted-string (with `\` escapes).
 * token68 credentials (`Negotiate abc==`) are not used by registries and are not read.
 * Unparseable tails are dropped rather than thrown on: the header comes from a server we do
 * not control, and the caller only needs the challenges it understands.
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const challenges: { scheme: string; params: Record<string, string> }[] = [];
  let rest = header;
  for (;;) {
    rest = skip(rest, /^[\s,]+/);
    const scheme = TOKEN.exec(rest)?.[0];
    if (scheme === undefined) return challenges;
    rest = rest.slice(scheme.length);
    const challenge = { scheme: scheme.toLowerCase(), params: {} as Record<string, string> };
    challenges.push(challenge);
    rest = readParams(rest, challenge.params);
  }
}

function readParams(input: string, params: Record<string, string>): string {
  let rest = input;
  for (;;) {
    const match = /^[\s,]*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*/.exec(rest);
    if (match === null) return rest;
    const name = match[1]?.toLowerCase() ?? "";
    rest = rest.slice(match[0].length);
    const [value, after] = readValue(rest);
    params[name] = value;
    rest = after;
  }
}

function readValue(input: string): [string, string] {
  if (!input.startsWith('"')) {
    // RFC 7235 wants a token here; some servers send unquoted URLs, so read up to a separator.
    const token = /^[^\s,"]*/.exec(input)?.[0] ?? "";
    return [token, input.slice(token.length)];
  }
  let value = "";
  for (let i = 1; i < input.length; i++) {
    const char = input.charAt(i);
    if (char === "\\" && i + 1 < input.length) value += input.charAt(++i);
    else if (char === '"') return [value, input.slice(i + 1)];
    else value += char;
  }
  return [value, ""]; // unterminated quote: take what is there
}

function skip(input: string, pattern: RegExp): string {
  const match = pattern.exec(input);
  return match === null ? input : input.slice(match[0].length);
}
