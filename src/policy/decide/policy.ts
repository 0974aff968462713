import {
  parsePolicyDocument,
  type PinsDocument,
  type PolicyDocument,
  type Settings,
} from "../document/index.ts";
import { compileExemptions, type ExemptionMatcher } from "./exemptions.ts";
import { mergePins } from "./merge.ts";
import type { PinIndex } from "./pin-index.ts";
import { compileRegistries, type RegistryMatcher } from "./registry-matcher.ts";

/**
 * One policy generation, ready for decide(): settings, every pin merged, matchers compiled.
 * Immutable; a loader builds a new one per change and swaps it in atomically.
 */
export interface Policy {
  readonly settings: Settings;
  readonly pins: PinIndex;
  readonly registries: RegistryMatcher;
  readonly exemptions: ExemptionMatcher;
  /** The documents it was built from, for logs (`policy.yaml`, `configmap ns/name`, …). */
  readonly sources: readonly string[];
}

/**
 * The policy of `document` with the pins of `pinDocuments` merged in (the policy's own pins
 * first). Throws PolicyInvalidError when a tag is pinned to different digests in two places.
 */
export function buildPolicy(
  document: PolicyDocument,
  pinDocuments: readonly PinsDocument[] = [],
): Policy {
  const sources = [document, ...pinDocuments];
  return {
    settings: document.settings,
    pins: mergePins(sources),
    registries: compileRegistries(document.settings.registries),
    exemptions: compileExemptions(document.settings.exempt),
    sources: sources.map((source) => source.source),
  };
}

/** Parses `text` as a `kind: Policy` document and builds it (throws PolicyInvalidError). */
export function policyFromText(text: string, sourceName: string): Policy {
  return buildPolicy(parsePolicyDocument(text, sourceName, { expect: "Policy" }));
}
