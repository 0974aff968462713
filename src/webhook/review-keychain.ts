import type { AtOnce } from "../at-once.ts";
import { podSpecOf, type AdmissionRequest } from "../admission/index.ts";
import { podKeychain, type PullSecretSource, type SecretName } from "../kube/index.ts";
import type { Policy } from "../policy/index.ts";
import { anonymous, type Keychain } from "../registry/index.ts";

export interface KeychainOptions {
  /** Reads Secrets and service accounts; undefined without an API server. */
  readonly secrets: PullSecretSource | undefined;
  /** Whether the pod's (and its service account's) imagePullSecrets are used. */
  readonly pullSecrets: boolean;
  /** The webhook's namespace, for registry Secrets named without one. */
  readonly namespace: string;
  readonly policy: () => Policy | undefined;
}

/**
 * The credentials a review's registry lookups use: the pod's imagePullSecrets and its service
 * account's (when enabled), then the policy's per-registry `credentialsSecret`s. At once when
 * they are known (read within the last 30 s, see apiPullSecretSource), else a promise.
 */
export function reviewKeychain(
  options: KeychainOptions,
): (request: AdmissionRequest) => AtOnce<Keychain> {
  return (request) => {
    const { secrets } = options;
    if (secrets === undefined) return anonymous;
    return podKeychain(secrets, {
      namespace: request.namespace ?? "",
      podSpec: podSpecOf(request.kind.kind, request.object),
      podSecrets: options.pullSecrets,
      registrySecrets: registrySecretsOf(options),
    });
  };
}

/** The policy's per-registry `credentialsSecret`s (a Secret without namespace: the webhook's). */
function registrySecretsOf(options: KeychainOptions): SecretName[] {
  return (options.policy()?.settings.registries ?? []).flatMap((r) =>
    r.credentialsSecret === undefined
      ? []
      : [
          {
            namespace: r.credentialsSecret.namespace ?? options.namespace,
            name: r.credentialsSecret.name,
          },
        ],
  );
}

/**
 * The credentials of the drift scan, which has no Pod: the policy's per-registry
 * `credentialsSecret`s, read anew for each request (a rotated Secret is used at once).
 */
export function scanKeychain(options: KeychainOptions): () => Promise<Keychain> {
  return async () => {
    const { secrets } = options;
    if (secrets === undefined) return anonymous;
    return podKeychain(secrets, {
      namespace: options.namespace,
      podSpec: undefined,
      podSecrets: false,
      registrySecrets: registrySecretsOf(options),
    });
  };
}
