// Pins, recorded and edited: comment-keeping text edits of pins (add, approve), the stores the
// CLI edits (files, ConfigMaps), the trust-on-first-use recorder and the ConfigMap policy source.
export { addPins, type AddOutcome } from "./pin-edit.ts";
export { approvePin, type Approval } from "./pin-approve.ts";
export { emptyPinsText } from "./pin-render.ts";
export { rfc3339 } from "./time.ts";
export {
  editPolicy,
  PolicyConflictError,
  viewOf,
  type EditResult,
  type PolicySnapshot,
  type PolicyStore,
  type PolicyView,
  type StoredDocument,
} from "./policy-store.ts";
export { PolicyFiles } from "./policy-files.ts";
export { PolicyConfigMaps } from "./policy-configmaps.ts";
export {
  AUTO_PINS_MAX_BYTES,
  AutoPinsFullError,
  ConfigMapPinRecorder,
  type RecordResult,
} from "./pin-recorder.ts";
export { ConfigMapPolicySource, type ConfigMapSourceOptions } from "./configmap-source.ts";
export { INVALID_POLICY_REASON, InvalidPolicyReporter } from "./policy-events.ts";
