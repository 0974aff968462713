// Admission: an AdmissionReview in, the response out. Finds every image of every kind, judges
// each by the policy (asking registries through injected functions) and builds the patch.
export { handleReview, type AdmissionDeps, type ReviewOutcome } from "./handler.ts";
export {
  admissionReview,
  parseAdmissionReview,
  type AdmissionRequest,
  type AdmissionResponse,
} from "./review.ts";
export type { ReviewEndpoint } from "./roles.ts";
export type { Judged } from "./respond.ts";
export { findImages, podSpecOf, type ImageSlot } from "./images.ts";
export { controllerOf, nameOf } from "./object-meta.ts";
export { DRIFT_ACTIONS, driftOf, type DriftAction } from "./drift.ts";
export { applyImageFacts, type ImageFactsSource } from "./facts.ts";
export type { ResolveFn } from "./judge.ts";
export { applySignatureFacts, type VerifySignaturesFn } from "./signature-facts.ts";
