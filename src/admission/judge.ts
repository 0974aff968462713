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

/** Asks a registry which digest it serves (the Resolver's `resolve`, injected). */
export type ResolveFn = (
  reference: ImageReference,
  options: ResolveOptions,
) => Promise<ManifestAnswer>;

export interface JudgeContext extends DecisionContext {
  /** Epoch ms by which every registry answer must be in. */
  readonly deadline: number;
  /** Credentials for the review, fetched only if some image needs the registry. */
  readonly keychain: () => Promise<Keychain>;
  readonly now?: () => number;
}

/**
 * decide() for each image of a review, in order (once per distinct image), asking registries
 * concurrently where the decision needs to know what a tag points at now. Never throws: a
 * registry or credential failure is an observation decide() turns into the policy's answer.
 */
export async function judgeImages(
  images: readonly string[],
  context: JudgeContext,
  policy: Policy,
  resolve: ResolveFn,
  facts?: ImageFactsSource,
  verifySignatures?: VerifySignaturesFn,
): Promise<Decision[]> {
  const once = new Map<string, Promise<Decision>>();
  const decideOnce = (image: string): Promise<Decision> => {
    let decision = once.get(image);
    if (decision === undefined) {
      decision = decideImage(image, context, policy, resolve, facts, verifySignatures);
      once.set(image, decision);
    }
    return decision;
  };
  return Promise.all(images.map(decideOnce));
}

/** decide(), then what facts about the image change (only asked for when needed; see decide-facts.ts). */
async function decideImage(
  image: string,
  context: JudgeContext,
  policy: Policy,
  resolve: ResolveFn,
  facts: ImageFactsSource | undefined,
  verifySignatures?: VerifySignaturesFn,
): Promise<Decision> {
  let observed: RegistryObservation | undefined;
  const decided = await decideWith(image, context, policy, async (request) => {
    observed = await observe(request.reference, context, resolve);
    return observed;
  });
  // Signatures first: an approval changes the digest whose bases and layers are checked.
  const decision =
    verifySignatures === undefined
      ? decided
      : await applySignatureFacts(decided, policy, verifySignatures, context);
  if (facts === undefined) return decision;
  const { deadline, keychain } = context;
  const now = context.now ?? Date.now;
  return applyImageFacts(decision, policy, facts, { deadline, keychain, now, observed });
}

async function observe(
  reference: ImageReference,
  context: JudgeContext,
  resolve: ResolveFn,
): Promise<RegistryObservation> {
  try {
    const keychain = await context.keychain();
    const answer = await resolve(reference, { keychain, deadline: context.deadline });
    return { digest: answer.digest };
  } catch (error) {
    return { error: registryFailure(error) };
  }
}
