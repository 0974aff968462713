import { DigestpinError } from "../errors.ts";

/** Thrown (or returned by tryParseReference) for an image reference or digest that is invalid. */
export class ReferenceError extends DigestpinError {
  static readonly code = "ERR_INVALID_REFERENCE";

  /** The string that was rejected, exactly as given. */
  readonly input: string;

  constructor(input: string, message: string) {
    super(ReferenceError.code, message);
    this.input = input;
  }
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
