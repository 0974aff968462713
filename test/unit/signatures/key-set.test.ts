import { generateKeyPairSync } from "node:crypto";
import test from "ava";
import {
  keySetFingerprint,
  keySetOf,
  parsePublicKey,
  type TrustedKey,
} from "../../../src/signatures/index.ts";

// A key set is fingerprinted once, when it is made: what it names cannot change afterwards
// (the list is copied and frozen, and so is every parsed key), so a kept verification result
// can never be found under a fingerprint of other keys.

const pem = (pair: ReturnType<typeof generateKeyPairSync>) =>
  pair.publicKey.export({ type: "spki", format: "pem" }).toString();
const [qa, lead, stranger] = [0, 1, 2].map(() =>
  parsePublicKey(pem(generateKeyPairSync("ec", { namedCurve: "P-256" }))),
) as [TrustedKey, TrustedKey, TrustedKey];

test("a key set's fingerprint is the fingerprint of its keys", (t) => {
  const set = keySetOf([qa, lead]);
  t.is(set.fingerprint, keySetFingerprint([qa, lead]));
  t.is(keySetOf([lead, qa, lead]).fingerprint, set.fingerprint);
  t.not(keySetOf([qa]).fingerprint, set.fingerprint);
  t.not(keySetOf([qa, stranger]).fingerprint, set.fingerprint);
});

test("changing the list a key set was made from changes neither its keys nor its fingerprint", (t) => {
  const keys = [qa, lead];
  const set = keySetOf(keys);
  keys.push(stranger);
  keys[0] = stranger;
  t.deepEqual(set.keys, [qa, lead]);
  t.is(set.fingerprint, keySetFingerprint([qa, lead]));
  t.true(Object.isFrozen(set));
  t.true(Object.isFrozen(set.keys));
  t.throws(() => (set.keys as TrustedKey[]).push(stranger), { instanceOf: TypeError });
});

test("a parsed key is frozen: its id cannot be changed under a key set", (t) => {
  t.true(Object.isFrozen(qa));
  t.throws(
    () => {
      (qa as { id: string }).id = stranger.id;
    },
    { instanceOf: TypeError },
  );
  t.is(keySetOf([qa]).fingerprint, keySetFingerprint([qa]));
});
