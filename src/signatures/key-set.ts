// A set of trusted keys with its fingerprint computed once: what a verification result is kept
// by, so a warm lookup hashes nothing (the webhook makes one per policy rule's keys).
import { keySetFingerprint, type TrustedKey } from "./keys.ts";

/** Keys that verify signatures, and the one name of the set (see keySetFingerprint). */
export interface KeySet {
  readonly keys: readonly TrustedKey[];
  readonly fingerprint: string;
}

/**
 * The key set of `keys`, frozen: a copy of the list, so the fingerprint cannot go stale when
 * the caller's array changes afterwards. Made once and reused, it costs nothing per lookup.
 */
export function keySetOf(keys: readonly TrustedKey[]): KeySet {
  const frozen = Object.freeze([...keys]);
  return Object.freeze({ keys: frozen, fingerprint: keySetFingerprint(frozen) });
}

/** `keys` as a key set: a KeySet as it is, a list of keys fingerprinted now. */
export function asKeySet(keys: readonly TrustedKey[] | KeySet): KeySet {
  return isKeySet(keys) ? keys : keySetOf(keys);
}

function isKeySet(keys: readonly TrustedKey[] | KeySet): keys is KeySet {
  return !Array.isArray(keys);
}
