import { isDigest, type ImageReference } from "../../reference/index.ts";
import type { PinRecord } from "../document/index.ts";
import type { DecideResult, DecisionContext, RegistryObservation } from "./decision.ts";
import { approveCommand, denials, shortDigest } from "./messages.ts";
import type { Policy } from "./policy.ts";
import { rewriteImage } from "./rewrite.ts";
import { allow, deny, mutate } from "./verdicts.ts";

/** An image reference with a tag and no digest, and what decide() knows around it. */
export interface TagRequest {
  readonly image: string;
  readonly ref: ImageReference;
  /** Canonical `registry/repository:tag`. */
  readonly key: string;
  readonly context: DecisionContext;
  readonly policy: Policy;
}

/** What the registry said, sorted by what decide() does with it. */
type Answer =
  | { readonly kind: "digest"; readonly digest: string }
  | { readonly kind: "unavailable" | "error"; readonly text: string };

/** `repository:tag`: the pin against what the registry serves now. */
export function decideTagReference(
  request: TagRequest,
  observed: RegistryObservation | undefined,
): DecideResult {
  const { image, ref, key, policy } = request;
  const { mode, unpinned } = policy.settings;
  const pin = policy.pins.get(key);
  if (pin === undefined && unpinned === "deny") {
    return deny("unpinned", image, ref, denials.unpinned(image, key), mode);
  }
  if (pin === undefined && unpinned === "allow") {
    const message = `${key} is not pinned; admitted unchanged (unpinned: allow)`;
    const warning = `${image} is not pinned; admitted unchanged (unpinned: allow)`;
    return allow("unpinned-allowed", image, ref, { message, warning });
  }
  if (observed === undefined) return { action: "lookup", reference: ref, key };
  const answer = classify(observed);
  if (answer.kind === "error") {
    return deny(
      "registry-error",
      image,
      ref,
      denials.registryError(image, key, answer.text, pin),
      mode,
    );
  }
  return pin === undefined ? unpinnedTag(request, answer) : pinnedTag(request, pin, answer);
}

function unpinnedTag(request: TagRequest, answer: Answer): DecideResult {
  const { image, ref, key, context, policy } = request;
  if (answer.kind !== "digest") {
    const text = denials.unavailableUnpinned(image, key, answer.text);
    return deny("registry-unavailable", image, ref, text, policy.settings.mode);
  }
  const current = answer.digest;
  const target = {
    image: rewriteImage(image, ref, current, policy.settings.rewrite),
    digest: current,
  };
  if (policy.settings.unpinned === "resolve") {
    const message = `${key} is not pinned; using the digest the registry serves now, ${current} (unpinned: resolve)`;
    return mutate("resolved", image, ref, target, { message });
  }
  if (context.dryRun) {
    const message = `dry run: ${key} is not pinned; would pin it to ${current} on first use (nothing recorded)`;
    const warning = `dry run: would pin ${key} to ${shortDigest(current)} (trust-on-first-use)`;
    return mutate("trust-on-first-use", image, ref, target, { message, warning });
  }
  const record: PinRecord = {
    key,
    digest: current,
    pinnedBy: "digestpin (trust-on-first-use)",
    reason: `first used in namespace ${context.namespace}`,
    history: [],
  };
  const message = `${key} was not pinned; pinned it to ${current} on first use`;
  const warning = `pinned ${key} to ${shortDigest(current)} on first use`;
  return mutate("trust-on-first-use", image, ref, { ...target, record }, { message, warning });
}

function pinnedTag(request: TagRequest, pin: PinRecord, answer: Answer): DecideResult {
  const { image, ref, key, context, policy } = request;
  const { mode, rewrite } = policy.settings;
  const target = { image: rewriteImage(image, ref, pin.digest, rewrite), digest: pin.digest };
  const pinnedImage = rewriteImage(image, ref, pin.digest);
  // Nobody can act on the denial of what a controller creates: it runs at the pin instead.
  const controllerAtPin =
    context.controlled === true && policy.settings.controllerPods === "use-pin";
  if (answer.kind !== "digest") {
    if (policy.settings.registryUnavailable === "deny" && !controllerAtPin) {
      const text = denials.unavailablePinned(image, pin, answer.text, pinnedImage);
      return deny("registry-unavailable", image, ref, text, mode);
    }
    const why =
      policy.settings.registryUnavailable === "deny"
        ? "created by a controller (controllerPods: use-pin)"
        : "registryUnavailable: use-pin";
    const message = `registry unavailable (${answer.text}); using the pin of ${key}, ${pin.digest} (${why})`;
    const warning = `registry unavailable; ${image} admitted at its pin ${shortDigest(pin.digest)}`;
    return mutate("registry-unavailable", image, ref, target, { message, warning });
  }
  const current = answer.digest;
  if (current === pin.digest) {
    const message = `${key} is pinned to ${pin.digest}, which the registry serves`;
    return mutate("pinned", image, ref, target, { message });
  }
  const drift = { key, pinned: pin.digest, current };
  if (policy.settings.drift === "deny" && !controllerAtPin) {
    return {
      ...deny("drift", image, ref, denials.drift(image, pin, current, pinnedImage), mode),
      drift,
    };
  }
  const setting = policy.settings.drift === "deny" ? "controllerPods: use-pin" : "drift: warn";
  const who = policy.settings.drift === "deny" ? "created by a controller, " : "";
  const message =
    `${key} moved to ${current}; admitted at its pin ${pin.digest} (${who}${setting}). Review ` +
    `the new image with 'digestpin diff ${key}'; to accept it run ${approveCommand(key, current)}`;
  const warning = `${image} moved to ${shortDigest(current)}, admitted at pin ${shortDigest(pin.digest)} (${setting})`;
  return { ...mutate("drift", image, ref, target, { message, warning }), drift };
}

/** A digest that is no valid digest is treated as an error answer, never written into a pod. */
function classify(observed: RegistryObservation): Answer {
  if ("error" in observed) {
    const { code, message, unavailable } = observed.error;
    return { kind: unavailable ? "unavailable" : "error", text: `${code}: ${message}` };
  }
  if (isDigest(observed.digest)) return { kind: "digest", digest: observed.digest };
  return {
    kind: "error",
    text: `ERR_INVALID_DIGEST: the registry named ${JSON.stringify(observed.digest)}`,
  };
}
