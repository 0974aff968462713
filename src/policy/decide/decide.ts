import { andThen, type AtOnce } from "../../at-once.ts";
import { invariantBroken } from "../../errors.ts";
import { pinKeyOf, tryParseReference, type ParseResult } from "../../reference/index.ts";
import { decideDigestReference } from "./decide-digest.ts";
import { decideTagReference } from "./decide-tag.ts";
import { DecisionMemo } from "./decision-memo.ts";
import type {
  DecideResult,
  Decision,
  DecisionContext,
  LookupRequest,
  RegistryObservation,
} from "./decision.ts";
import { denials } from "./messages.ts";
import type { Policy } from "./policy.ts";
import { allow, deny } from "./verdicts.ts";

/**
 * The design's decision table for one image reference, as a pure function: no I/O, no clock.
 * When it needs the digest the registry serves for a tag it returns `{ action: "lookup" }`:
 * ask the registry and call again with the observation. Checked in this order: exempt
 * namespace, syntax, exempt image, allowed registry, then the pins. `mode` (warn, audit) turns
 * every denial into an admission (see verdicts.ts).
 */
export function decide(
  image: string,
  context: DecisionContext,
  policy: Policy,
  observed?: RegistryObservation,
): DecideResult {
  return decideParsed(image, tryParseReference(image), context, policy, observed);
}

/** decide() with `image` already parsed (decideWith parses once for both of its calls). */
function decideParsed(
  image: string,
  parsed: ParseResult,
  context: DecisionContext,
  policy: Policy,
  observed?: RegistryObservation,
): DecideResult {
  const { mode } = policy.settings;
  const reference = parsed.ok ? parsed.reference : null;
  if (policy.exemptions.isExemptNamespace(context.namespace)) {
    const message = `namespace ${context.namespace} is exempt from digestpin`;
    return allow("exempt-namespace", image, reference, { message });
  }
  if (!parsed.ok) {
    const text = denials.invalidReference(image, parsed.error.message);
    return deny("invalid-reference", image, null, text, mode);
  }
  const ref = parsed.reference;
  const pattern = policy.exemptions.exemptImagePattern(ref);
  if (pattern !== null) {
    const message = `image ${image} matches the exempt pattern ${pattern}`;
    return allow("exempt-image", image, ref, { message });
  }
  if (!policy.registries.allows(ref.registry)) {
    const text = denials.registryNotAllowed(image, ref.registry, policy.registries.hosts);
    return deny("registry-not-allowed", image, ref, text, mode);
  }
  const key = ref.digest === null ? pinKeyOf(ref) : null;
  if (key === null) return decideDigestReference(image, ref, policy);
  return decideTagReference({ image, ref, key, context, policy }, observed);
}

/** decideWith's results per policy generation (they do not depend on who shares it). */
const DECISIONS = new DecisionMemo();

/**
 * decide() with the registry asked through `lookup` when needed (at most once). `lookup` must
 * not throw: it reports failures as `{ error }` observations. Results come from DECISIONS when
 * the same image was decided in the same context under the same policy (and digest) before.
 * The decision comes at once, not as a promise, when `lookup` answers at once (or is not
 * needed): a warm review waits on nothing.
 */
export function decideWith(
  image: string,
  context: DecisionContext,
  policy: Policy,
  lookup: (request: LookupRequest) => AtOnce<RegistryObservation>,
): AtOnce<Decision> {
  const first = DECISIONS.first(image, context, policy, () => {
    const parsed = tryParseReference(image);
    return { parsed, result: decideParsed(image, parsed, context, policy) };
  });
  if (first.result.action !== "lookup") return first.result;
  const decideAgain = (observed: RegistryObservation): Decision => {
    const fresh = (): Decision => {
      const second = decideParsed(image, first.parsed, context, policy, observed);
      if (second.action === "lookup") throw invariantBroken("decide() asked for a lookup twice");
      return second;
    };
    return "digest" in observed ? DECISIONS.second(first, observed.digest, fresh) : fresh();
  };
  return andThen(lookup(first.result), decideAgain);
}
