// Kubernetes API access, generic: kubeconfig loading with clear errors, informers, ConfigMaps
// with optimistic concurrency, Events, leader election (Leases), namespace labels and pull
// secrets. Knows no policy.
export {
  checkApiServer,
  loadKubeConfig,
  reusingKubeConfig,
  type KubeAccess,
  type ReusingKubeConfig,
} from "./client.ts";
export { isApiException, kubeLibrary, loadKubeLibrary } from "./library.ts";
export { apiServerOf, explainKubeError, KubeApiError, retryTransport } from "./errors.ts";
export { watchObjects, type ObjectWatch, type ObjectWatchOptions } from "./watch.ts";
export { watchConfigMaps, type ConfigMapWatch } from "./configmap-watch.ts";
export { ConfigMapConflictError, ConfigMaps, dataOf } from "./configmaps.ts";
export { configMapSubject, EventRecorder, type EventSubject } from "./events.ts";
export { namespaceLabels, type Labels, type NamespaceLabels } from "./namespace-labels.ts";
export {
  apiPullSecretSource,
  podKeychain,
  type PullSecretSource,
  type SecretName,
} from "./pull-secrets.ts";
export {
  DEFAULT_LEASE_DURATION_MS,
  LeaderElection,
  type LeaderElectionOptions,
} from "./leader-election.ts";
export { objectKeyReader, type ObjectKey } from "./key-objects.ts";
