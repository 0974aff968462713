/**
 * Base class of every error digestpin raises on purpose. `code` is stable (tests, metrics
 * labels and logs use it); `message` is for the person who has to act on it.
 */
export class DigestpinError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A broken invariant: a bug in digestpin, never something the operator gave it (code
 * ERR_INTERNAL; the message asks for a report).
 */
export function invariantBroken(what: string): DigestpinError {
  return new DigestpinError("ERR_INTERNAL", `internal error: ${what} (please report it)`);
}

export function isDigestpinError(error: unknown): error is DigestpinError {
  return error instanceof DigestpinError;
}

const QUOTE_LIMIT = 160;
const QUOTE_KEEP = 100;

/**
 * A value as it appears in a message: JSON-quoted (so control characters cannot forge log lines)
 * and, past QUOTE_LIMIT characters, cut short with an ellipsis.
 */
export function quote(value: string): string {
  if (value.length <= QUOTE_LIMIT) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, QUOTE_KEEP)).slice(0, -1)}…"`;
}
