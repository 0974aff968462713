import { andThen, type AtOnce } from "../at-once.ts";
import { invariantBroken } from "../errors.ts";
import {
  nameOnlyLabels,
  policyInNamespace,
  type Decision,
  type DecisionReason,
  type Labels,
  type Policy,
} from "../policy/index.ts";
import type { Keychain } from "../registry/index.ts";
import type { ImageFactsSource } from "./facts.ts";
import { findImages, type ImageSlot } from "./images.ts";
import { judgeImages, type ResolveFn } from "./judge.ts";
import { asksValidateOnly, controllerOf, VALIDATE_ONLY_LABEL } from "./object-meta.ts";
import { reviewPolicyConfigMap, type PolicyLocation } from "./policy-configmap.ts";
import { requireDigest } from "./require-digests.ts";
import { writePins, type PinWriters } from "./record-pins.ts";
import type { Judged } from "./respond.ts";
import { RESPONSES } from "./response-memo.ts";
import type { AdmissionRequest, AdmissionResponse } from "./review.ts";
import { roleOf, type ReviewEndpoint, type Role } from "./roles.ts";
import type { VerifySignaturesFn } from "./signature-facts.ts";

/** What a review needs from outside; recordPin and movePin write pins (see PinWriters). */
export interface AdmissionDeps extends PinWriters {
  /** The policy in force; undefined until one valid policy has been loaded. */
  readonly policy: () => Policy | undefined;
  readonly resolve: ResolveFn;
  /** Registry credentials for a review (its pod's pull secrets …). */
  readonly keychainFor: (request: AdmissionRequest) => AtOnce<Keychain>;
  /** Finds and verifies cosign signatures (`signatures` rules); absent: none is ever read. */
  readonly verifySignatures?: VerifySignaturesFn;
  readonly mutateTemplates: boolean;
  /** The registry budget of one review, in ms (below the webhook's timeoutSeconds). */
  readonly budgetMs: number;
  readonly now: () => number;
  /** Where the policy ConfigMaps are, to refuse invalid edits of them on /validate. */
  readonly policyLocation?: PolicyLocation;
  /** Manifests and declared bases by digest (baseImages, drift notes); none: never read. */
  readonly facts?: ImageFactsSource;
  /**
   * The labels of a namespace (for `namespaces` rules and the validate-only label); absent:
   * only its name is known (`kubernetes.io/metadata.name`).
   */
  readonly namespaceLabels?: (namespace: string) => AtOnce<Labels | undefined>;
}

export interface ReviewOutcome {
  readonly response: AdmissionResponse;
  readonly judged: readonly Judged[];
  readonly role: Role;
  /** The AdmissionReview of `response` as JSON, when it was encoded already (the memo's). */
  readonly json?: string;
}

/**
 * Answers one AdmissionReview request for an endpoint: finds the images the request changes,
 * decides each by the policy, and builds the response (patch, denial, warnings, audit notes).
 * The outcome comes at once, not as a promise, when nothing had to be waited for (see
 * judgeImages): the warm review.
 */
export function handleReview(
  endpoint: ReviewEndpoint,
  request: AdmissionRequest,
  deps: AdmissionDeps,
): AtOnce<ReviewOutcome> {
  if (
    endpoint === "validate" &&
    request.kind.kind === "ConfigMap" &&
    deps.policyLocation !== undefined
  ) {
    return {
      response: reviewPolicyConfigMap(request, deps.policyLocation),
      judged: [],
      role: "none",
    };
  }
  const role = roleOf(endpoint, request.kind.kind, deps.mutateTemplates);
  const slots =
    request.operation === "CREATE" || request.operation === "UPDATE" ? changedImages(request) : [];
  if (role === "none" || slots.length === 0) {
    return { response: { uid: request.uid, allowed: true }, judged: [], role };
  }
  const loaded = deps.policy();
  if (loaded === undefined) {
    const message = "digestpin has no valid policy loaded yet, so it cannot admit images";
    return {
      response: {
        uid: request.uid,
        allowed: false,
        status: { code: 503, reason: "ServiceUnavailable", message },
      },
      judged: [],
      role,
    };
  }
  const namespace = request.namespace ?? "";
  const known = deps.namespaceLabels?.(namespace);
  const inNamespace = (found: Labels | undefined): AtOnce<ReviewOutcome> => {
    // Kubernetes labels every namespace with its name; when its labels cannot be read, that is
    // all that is known (and the policy's own settings apply unless a rule selects by name).
    const labels = { ...nameOnlyLabels(namespace), ...found };
    const policy = policyInNamespace(loaded, labels);
    const validateOnly =
      policy.settings.rewrite === "none" ||
      labels[VALIDATE_ONLY_LABEL] === "true" ||
      asksValidateOnly(request.kind.kind, request.object);
    const judged = judge(effectiveRole(role, validateOnly), slots, request, policy, deps);
    const answer = (judged: Judged[]): ReviewOutcome => ({
      ...RESPONSES.answer(request, judged),
      judged,
      role,
    });
    return andThen(judged, answer);
  };
  return andThen(known, inNamespace);
}

/**
 * The role under validate-only: the validating pass judges tags as written (they stay tags);
 * the mutating pass keeps its role, and judge() leaves what the tag serves unchanged.
 */
function effectiveRole(role: Role, validateOnly: boolean): Role | "validate-only" {
  if (!validateOnly) return role;
  return role === "rewrite"
    ? "validate-only"
    : role === "require-digests"
      ? "check-template"
      : role;
}

/** Decisions whose digest is the one the tag serves right now: validate-only leaves the tag. */
const TAG_SERVES_DIGEST: ReadonlySet<DecisionReason> = new Set([
  "pinned",
  "trust-on-first-use",
  "resolved",
  "signature-approved",
]);

/** The images judged, at once when no decision waits on anything (see judgeImages). */
function judge(
  role: Role | "validate-only",
  slots: readonly ImageSlot[],
  request: AdmissionRequest,
  policy: Policy,
  deps: AdmissionDeps,
): AtOnce<Judged[]> {
  const namespace = request.namespace ?? "";
  if (role === "require-digests") {
    return slots.map((slot) => ({ slot, decision: requireDigest(slot.image, namespace, policy) }));
  }
  let keychain: AtOnce<Keychain> | undefined;
  const decisions = judgeImages(
    slots.map((s) => s.image),
    {
      namespace,
      dryRun: request.dryRun,
      controlled: controllerOf(request.object) !== undefined,
      deadline: deps.now() + deps.budgetMs,
      keychain: () => (keychain ??= deps.keychainFor(request)),
      now: deps.now,
    },
    policy,
    deps.resolve,
    deps.facts,
    deps.verifySignatures,
  );
  const recordPins = (decisions: Decision[]): AtOnce<Judged[]> => {
    const writes = writePins(decisions, request.dryRun, deps);
    return writes === undefined
      ? judgedSlots(role, slots, decisions, undefined)
      : writes.then((recorded) => judgedSlots(role, slots, decisions, recorded));
  };
  return andThen(decisions, recordPins);
}

/** Each slot with its decision: the one a pin write replaced, and as its role leaves it. */
function judgedSlots(
  role: Role | "validate-only",
  slots: readonly ImageSlot[],
  decisions: readonly Decision[],
  recorded: ReadonlyMap<string, Decision> | undefined,
): Judged[] {
  return slots.map((slot, i) => {
    const judged = decisions[i];
    if (judged === undefined) throw invariantBroken("no decision for an image");
    const decision = recorded?.get(slot.image) ?? judged;
    // A template is judged as written and left unchanged: what would be rewritten is admitted.
    // Validate-only leaves a tag that serves the admitted digest; only the pin of a moved tag
    // (or of an unreachable registry) is still written, since the tag would pull other bytes.
    const unchanged =
      decision.action === "mutate" &&
      (role === "check-template" ||
        (role === "validate-only" && TAG_SERVES_DIGEST.has(decision.reason)));
    return { slot, decision: unchanged ? asAllowed(decision) : decision };
  });
}

function asAllowed(decision: Decision): Decision {
  return {
    action: "allow",
    reason: decision.reason,
    input: decision.input,
    reference: decision.reference,
    message: decision.message,
    wouldDeny: false,
    ...(decision.warning !== undefined && { warning: decision.warning }),
    ...(decision.drift !== undefined && { drift: decision.drift }),
  };
}

/**
 * The image slots a request introduces: every image on CREATE; on UPDATE only those that differ
 * from the old object at the same place, so scaling, relabelling or deleting a workload is
 * never blocked by an image that already runs.
 */
function changedImages(request: AdmissionRequest): ImageSlot[] {
  const slots = findImages(request.kind.kind, request.object);
  if (request.operation !== "UPDATE") return slots;
  const before = new Map(
    findImages(request.kind.kind, request.oldObject).map((s) => [s.pointer, s.image]),
  );
  return slots.filter((slot) => before.get(slot.pointer) !== slot.image);
}
