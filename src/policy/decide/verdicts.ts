import type { ImageReference } from "../../reference/index.ts";
import type { Mode, PinRecord } from "../document/index.ts";
import type {
  AllowDecision,
  Decision,
  DecisionReason,
  MutateDecision,
  PinMove,
} from "./decision.ts";
import { clip, shortImage, type DenialText } from "./messages.ts";

/** The message and the optional warning of an admitted image. */
export interface AdmitText {
  readonly message: string;
  readonly warning?: string;
}

export function allow(
  reason: DecisionReason,
  input: string,
  reference: ImageReference | null,
  text: AdmitText,
): AllowDecision {
  return { action: "allow", reason, input, reference, ...clipWarning(text), wouldDeny: false };
}

export function mutate(
  reason: DecisionReason,
  input: string,
  reference: ImageReference,
  target: {
    readonly image: string;
    readonly digest: string;
    readonly record?: PinRecord;
    readonly move?: PinMove;
  },
  text: AdmitText,
): MutateDecision {
  return {
    action: "mutate",
    reason,
    input,
    reference,
    ...target,
    ...clipWarning(text),
    wouldDeny: false,
  };
}

/**
 * A denial under `mode`: enforce denies; warn admits unchanged with the summary as a warning;
 * audit admits unchanged, keeping the message as an audit note. All three say wouldDeny.
 */
export function deny(
  reason: DecisionReason,
  input: string,
  reference: ImageReference | null,
  text: DenialText,
  mode: Mode,
): Decision {
  const base = { reason, input, reference, message: text.message, wouldDeny: true } as const;
  switch (mode) {
    case "enforce":
      return { action: "deny", ...base };
    case "warn":
      return {
        action: "allow",
        ...base,
        warning: clip(`would deny ${shortImage(input)}: ${text.summary} (mode: warn)`),
      };
    case "audit":
      return { action: "allow", ...base, audit: text.message };
  }
}

function clipWarning(text: AdmitText): AdmitText {
  return text.warning === undefined ? text : { message: text.message, warning: clip(text.warning) };
}
