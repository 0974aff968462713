import { invariantBroken } from "../errors.ts";
import { checkPolicyDocument, PolicyInvalidError, type PinRecord } from "../policy/index.ts";

/** The pins of a policy or pins text by key; PolicyInvalidError when the text is invalid. */
export function pinsOf(text: string): Map<string, PinRecord> {
  const result = checkPolicyDocument(text, "(edited)");
  if (!result.ok) throw new PolicyInvalidError(result.issues);
  return new Map(result.document.pins.map((pin) => [pin.key, pin]));
}

/** A safety net after an edit: the text must be valid and pin what was written. */
export function checkEdit(text: string, written: readonly PinRecord[]): void {
  const pins = pinsOf(text);
  for (const record of written) {
    if (pins.get(record.key)?.digest !== record.digest) {
      throw invariantBroken(`editing the pins of ${record.key} failed`);
    }
  }
}
