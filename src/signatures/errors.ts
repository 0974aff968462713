import { DigestpinError } from "../errors.ts";

/** A public key given to digestpin (policy, Secret, ConfigMap) that it cannot use. */
export class SignatureKeyError extends DigestpinError {
  declare readonly code: "ERR_SIGNATURE_KEY";

  constructor(message: string, options?: ErrorOptions) {
    super("ERR_SIGNATURE_KEY", message, options);
  }
}
