import type { AtOnce } from "../at-once.ts";
import { setTimeout as sleep } from "node:timers/promises";
import { prefixNote, treeFindings } from "../layers/index.ts";
import {
  admittedDigest,
  decideBase,
  type Decision,
  type Policy,
  type RegistryFailure,
  type RegistryObservation,
} from "../policy/index.ts";
import {
  pinKeyOf,
  tryParseReference,
  type BaseDeclaration,
  type ImageReference,
} from "../reference/index.ts";
import {
  basesInAnnotations,
  RegistryError,
  type FactsOptions,
  type Keychain,
  type ManifestTree,
  type RepositoryName,
} from "../registry/index.ts";

/** What decisions may learn about an image by digest (an ImageFacts, injected). */
export interface ImageFactsSource {
  tree(name: RepositoryName, digest: string, options: FactsOptions): Promise<ManifestTree>;
  bases(
    name: RepositoryName,
    digest: string,
    options: FactsOptions,
  ): Promise<readonly BaseDeclaration[]>;
}

export interface FactsContext {
  /** Epoch ms by which the review must be answered. */
  readonly deadline: number;
  readonly keychain: () => AtOnce<Keychain>;
  readonly now: () => number;
  /** What the registry said the tag points at, when decide() asked. */
  readonly observed: RegistryObservation | undefined;
  /** The most a drift message's layer note may take, within the deadline (default 2s). */
  readonly noteBudgetMs?: number;
}

const NOTE_BUDGET_MS = 2_000;

/**
 * What a decision becomes once facts about the image are known, asked only when needed:
 *
 * - `baseImages: require-pinned` and the decision admits the image at a digest: the bases it
 *   declares must be pinned (decideBase).
 * - a drift denial: best effort, a note on how the layers of the new image relate to the
 *   pinned one's ("base layers changed"), if the manifests can be read within a short budget;
 *   otherwise the denial goes out as it was, never later than the budget.
 *
 * Everything else is returned as it is, at once: the hot path reads nothing more.
 */
export function applyImageFacts(
  decision: Decision,
  policy: Policy,
  facts: ImageFactsSource,
  context: FactsContext,
): AtOnce<Decision> {
  const digest = admittedDigest(decision);
  const reference = decision.reference;
  if (
    policy.settings.baseImages === "require-pinned" &&
    digest !== undefined &&
    reference !== null
  ) {
    return observeBases(facts, reference, digest, context).then((observed) =>
      decideBase(decision, digest, policy, observed),
    );
  }
  if (decision.reason === "drift" && decision.wouldDeny && reference !== null) {
    return withDriftNote(decision, policy, facts, context);
  }
  return decision; // at once: no fact to read
}

async function observeBases(
  facts: ImageFactsSource,
  reference: ImageReference,
  digest: string,
  context: FactsContext,
): Promise<{ bases: readonly BaseDeclaration[] } | { error: RegistryFailure }> {
  try {
    const keychain = await context.keychain();
    return {
      bases: await facts.bases(reference, digest, { keychain, deadline: context.deadline }),
    };
  } catch (error) {
    return { error: registryFailure(error) };
  }
}

async function withDriftNote(
  decision: Decision,
  policy: Policy,
  facts: ImageFactsSource,
  context: FactsContext,
): Promise<Decision> {
  const reference = decision.reference;
  const key = reference === null ? null : pinKeyOf(reference);
  const pin = key === null ? undefined : policy.pins.get(key);
  const observed = context.observed;
  if (reference === null || pin === undefined || observed === undefined || !("digest" in observed))
    return decision;
  const budget = Math.min(context.noteBudgetMs ?? NOTE_BUDGET_MS, context.deadline - context.now());
  if (budget <= 0) return decision;
  const deadline = context.now() + budget;
  const abandon = new AbortController();
  const note = await Promise.race([
    layerNote(facts, reference, pin.digest, observed.digest, context, deadline).catch(
      () => undefined,
    ),
    sleep(budget, undefined, { signal: abandon.signal }).catch(() => undefined),
  ]);
  abandon.abort();
  if (note === undefined) return decision;
  return {
    ...decision,
    message: `${decision.message} ${note}`,
    ...(decision.audit !== undefined && { audit: `${decision.audit} ${note}` }),
  };
}

/** Compares the layers of the pinned and the current image, with the pinned one's base. */
async function layerNote(
  facts: ImageFactsSource,
  reference: ImageReference,
  pinned: string,
  current: string,
  context: FactsContext,
  deadline: number,
): Promise<string | undefined> {
  const options = { keychain: await context.keychain(), deadline };
  const [before, after] = await Promise.all([
    facts.tree(reference, pinned, options),
    facts.tree(reference, current, options),
  ]);
  // The base's layer count, when the pinned image declares its base in its annotations.
  const declared = basesInAnnotations(before).bases.find((base) => base.digest !== undefined);
  const baseRef = declared === undefined ? undefined : tryParseReference(declared.name);
  const base =
    declared?.digest === undefined || baseRef?.ok !== true
      ? undefined
      : await facts.tree(baseRef.reference, declared.digest, options).catch(() => undefined);
  return prefixNote(treeFindings(before, after, base));
}

/**
 * What a failed registry read tells a decision: a registry's error as it is; anything else
 * went wrong before the registry was asked, reading the review's credentials.
 */
export function registryFailure(error: unknown): RegistryFailure {
  if (error instanceof RegistryError) {
    return { code: error.code, message: error.message, unavailable: error.unavailable };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: CREDENTIALS_ERROR,
    message: `cannot read registry credentials: ${message}`,
    unavailable: false,
  };
}

/** The code of a registry failure that happened reading the review's pull credentials. */
export const CREDENTIALS_ERROR = "ERR_CREDENTIALS";
