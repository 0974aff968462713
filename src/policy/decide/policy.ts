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
  /**
   * The keys whose pin changed since the policy this one was made from (an incremental reload,
   * see PinMerge); undefined when it was built whole (any pin may have changed).
   */
  readonly pinChanges?: ReadonlySet<string>;
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
  return composePolicy(
    document.settings,
    mergePins(sources),
    sources.map((source) => source.source),
  );
}

/**
 * The policy of `settings` and pins already merged. The matchers of `previous` are reused when
 * its settings are the same object (a pin edit leaves the policy document as it was parsed).
 */
export function composePolicy(
  settings: Settings,
  pins: PinIndex,
  sources: readonly string[],
  previous?: { readonly policy: Policy; readonly pinChanges: ReadonlySet<string> },
): Policy {
  const same = previous?.policy.settings === settings ? previous.policy : undefined;
  return {
    settings,
    pins,
    registries: same?.registries ?? compileRegistries(settings.registries),
    exemptions: same?.exemptions ?? compileExemptions(settings.exempt),
    sources,
    ...(previous !== undefined && { pinChanges: previous.pinChanges }),
  };
}

/** Parses `text` as a `kind: Policy` document and builds it (throws PolicyInvalidError). */
export function policyFromText(text: string, sourceName: string): Policy {
  return buildPolicy(parsePolicyDocument(text, sourceName, { expect: "Policy" }));
}
