import { allOf, andThen, recover, type AtOnce } from "../at-once.ts";
import {
  decideWith,
  type Decision,
  type DecisionContext,
  type Policy,
  type RegistryObservation,
} from "../policy/index.ts";
import type { ImageReference } from "../reference/index.ts";
import type { Keychain, ManifestAnswer, ResolveOptions } from "../registry/index.ts";
import { applyImageFacts, registryFailure, type ImageFactsSource } from "./facts.ts";
import { applySignatureFacts, type VerifySignaturesFn } from "./signature-facts.ts";

/**
 * Asks a registry which digest it serves (the PolicyResolver's `resolveNow`, injected): a
 * cached answer at once, otherwise the promise of the registry's.
 */
export type ResolveFn = (
  reference: ImageReference,
  options: ResolveOptions,
) => AtOnce<ManifestAnswer>;

export interface JudgeContext extends DecisionContext {
  /** Epoch ms by which every registry answer must be in. */
  readonly deadline: number;
  /** Credentials for the review, fetched only if some image needs the registry. */
  readonly keychain: () => AtOnce<Keychain>;
  readonly now?: () => number;
}

/**
 * decide() for each image of a review, in order (once per distinct image), asking registries
 * concurrently where the decision needs to know what a tag points at now. Never throws: a
 * registry or credential failure is an observation decide() turns into the policy's answer.
 * The decisions come at once, not as a promise, when every answer they need is at hand (the
 * registry's cached, credentials read, no facts or signatures to read): the warm review then
 * waits on nothing; anything else is awaited as before, with the same outcome.
 */
export function judgeImages(
  images: readonly string[],
  context: JudgeContext,
  policy: Policy,
  resolve: ResolveFn,
  facts?: ImageFactsSource,
  verifySignatures?: VerifySignaturesFn,
): AtOnce<Decision[]> {
  const once = new Map<string, AtOnce<Decision>>();
  const decisions = images.map((image) => {
    let decision = once.get(image);
    if (decision === undefined) {
      decision = decideImage(image, context, policy, resolve, facts, verifySignatures);
      once.set(image, decision);
    }
    return decision;
  });
  return allOf(decisions);
}

/** decide(), then what facts about the image change (only asked for when needed; see facts.ts). */
function decideImage(
  image: string,
  context: JudgeContext,
  policy: Policy,
  resolve: ResolveFn,
  facts: ImageFactsSource | undefined,
  verifySignatures?: VerifySignaturesFn,
): AtOnce<Decision> {
  let observed: RegistryObservation | undefined;
  const decided = decideWith(image, context, policy, (request) => {
    return andThen(observe(request.reference, context, resolve), (answer) => (observed = answer));
  });
  const withFacts = (decided: Decision): AtOnce<Decision> => {
    if (facts === undefined) return decided;
    const { deadline, keychain } = context;
    const now = context.now ?? Date.now;
    return applyImageFacts(decided, policy, facts, { deadline, keychain, now, observed });
  };
  // Signatures first: an approval changes the digest whose bases and layers are checked.
  const withSignatures = (decided: Decision): AtOnce<Decision> => {
    const signed =
      verifySignatures === undefined
        ? decided
        : applySignatureFacts(decided, policy, verifySignatures, context);
    return andThen(signed, withFacts);
  };
  return andThen(decided, withSignatures);
}

/** What the registry serves for `reference`: at once from its cache, else when it answers. */
function observe(
  reference: ImageReference,
  context: JudgeContext,
  resolve: ResolveFn,
): AtOnce<RegistryObservation> {
  const served = (answer: ManifestAnswer): RegistryObservation => ({ digest: answer.digest });
  const ask = (keychain: Keychain) => resolve(reference, { keychain, deadline: context.deadline });
  return recover(
    () => andThen(andThen(context.keychain(), ask), served),
    (error) => ({ error: registryFailure(error) }),
  );
}
