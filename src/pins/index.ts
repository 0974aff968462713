// Pins, recorded and edited: comment-keeping text edits of pins (add, approve), the stores the
// CLI edits (files, ConfigMaps), the trust-on-first-use recorder and the ConfigMap policy source.
export { addPins, type AddOutcome } from "./pin-edit.ts";
export { approvePin, type Approval } from "./pin-approve.ts";
export { movePin } from "./pin-move.ts";
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
export { NotWritableError, PolicyFiles, type FilesSnapshot } from "./policy-files.ts";
export { PolicyConfigMaps, type ConfigMapSnapshot } from "./policy-configmaps.ts";
export {
  StorePinRecorder,
  type PinRecorder,
  type RecordResult,
  type StorePinRecorderOptions,
} from "./pin-recorder.ts";
export { ConfigMapPolicySource, type ConfigMapSourceOptions } from "./configmap-source.ts";
export { INVALID_POLICY_REASON, InvalidPolicyReporter } from "./policy-events.ts";
export {
  DEFAULT_MAX_SHARDS,
  DEFAULT_STORE_PREFIX,
  isStoreName,
  shardIndex,
  shardName,
  SHARD_LIMIT_BYTES,
  SHARD_TARGET_BYTES,
  STORE_LABEL,
  STORE_LABEL_SELECTOR,
  storeDescription,
  type StoreLayout,
} from "./store-layout.ts";
export { placePins, StoreFullError, type Shard } from "./placement.ts";
export { dropPins, removePins, type Removal } from "./pin-remove.ts";
export { storeLabels } from "./policy-configmaps.ts";
