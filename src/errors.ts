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

export function isDigestpinError(error: unknown): error is DigestpinError {
  return error instanceof DigestpinError;
}
