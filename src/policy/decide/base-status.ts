import {
  nameOf,
  pinKeyOf,
  tryParseReference,
  type BaseDeclaration,
} from "../../reference/index.ts";
import type { PinRecord } from "../document/index.ts";
import { provenance, shortDigest } from "./messages.ts";
import type { PinIndex } from "./pin-index.ts";

/**
 * How a declared base stands against the pins: `pinned` (its digest is the pin of its tag, or
 * of another tag of its repository), `drifted` (its tag is pinned to another digest),
 * `unpinned`, `no-digest` (only a name is declared: which image it was is unknown), `invalid`
 * (the name is no image reference).
 */
export type BaseState = "pinned" | "drifted" | "unpinned" | "no-digest" | "invalid";

export interface BaseStatus {
  readonly base: BaseDeclaration;
  readonly state: BaseState;
  /** The canonical pin key of the declared name, when it has a tag. */
  readonly key: string | undefined;
  /** The pin the digest was compared with (the tag's, or the other tag's that matched). */
  readonly pin: PinRecord | undefined;
}

export function baseStatus(base: BaseDeclaration, pins: PinIndex): BaseStatus {
  const parsed = tryParseReference(base.name);
  if (!parsed.ok) return { base, state: "invalid", key: undefined, pin: undefined };
  const ref = parsed.reference;
  const key = pinKeyOf(ref) ?? undefined;
  const digest = base.digest ?? ref.digest ?? undefined;
  const pin = key === undefined ? undefined : pins.get(key);
  if (digest === undefined) return { base, state: "no-digest", key, pin };
  const matches = (record: PinRecord) =>
    record.digest === digest || Object.values(record.platforms ?? {}).includes(digest);
  if (pin !== undefined && matches(pin)) return { base, state: "pinned", key, pin };
  const other = pins.usesOf(nameOf(ref), digest)[0];
  const otherPin = other === undefined ? undefined : pins.get(other.key);
  if (otherPin !== undefined) return { base, state: "pinned", key, pin: otherPin };
  return { base, state: pin === undefined ? "unpinned" : "drifted", key, pin };
}

/** `NAME@DIGEST (manifest annotation, linux/amd64)`: a declaration as a link of a chain. */
export function baseLink(base: BaseDeclaration): string {
  const where = base.platform === undefined ? base.source : `${base.source}, ${base.platform}`;
  const digest = base.digest === undefined ? "" : `@${base.digest}`;
  return `${base.name}${digest} (${where})`;
}

/** What a status means, for a person: "pinned", "not pinned", "drifted: … is pinned to …". */
export function baseVerdict(status: BaseStatus): string {
  const { pin, key } = status;
  switch (status.state) {
    case "pinned":
      return pin === undefined || pin.key === key ? "pinned" : `pinned as ${pin.key}`;
    case "drifted":
      return `drifted: ${key ?? status.base.name} is pinned to ${pin === undefined ? "another digest" : `${shortDigest(pin.digest)}… (${provenance(pin)})`}`;
    case "unpinned":
      return `not pinned${key === undefined ? "" : `: no pin for ${key}`}`;
    case "no-digest":
      return "no base digest declared, so which image it was is unknown";
    case "invalid":
      return "not a valid image reference";
  }
}
