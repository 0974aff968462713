// Signatures: finds the cosign signatures of an image digest in its registry (the .sig tag and
// sigstore bundle referrers) and verifies them with trusted public keys, offline, in node:crypto.
export { SignatureKeyError } from "./errors.ts";
export {
  keySetFingerprint,
  parsePublicKey,
  shortKeyId,
  type KeyAlgorithm,
  type TrustedKey,
} from "./keys.ts";
export { keySetOf, type KeySet } from "./key-set.ts";
export type {
  ProblemReason,
  SignatureCheck,
  SignatureFormat,
  SignatureProblem,
  VerifiedSignature,
} from "./outcomes.ts";
export {
  SignatureVerifier,
  type SignatureVerifierOptions,
  type VerifyOptions,
} from "./verifier.ts";
