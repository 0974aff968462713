import { DigestpinError } from "../errors.ts";

/** Thrown (or returned by tryParseReference) for an image reference or digest that is invalid. */
export class InvalidReferenceError extends DigestpinError {
  static readonly code = "ERR_INVALID_REFERENCE";

  /** The string that was rejected, exactly as given. */
  readonly input: string;

  constructor(input: string, message: string) {
    super(InvalidReferenceError.code, message);
    this.input = input;
  }
}
