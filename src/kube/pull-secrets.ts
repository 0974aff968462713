import { allOf, andThen, type AtOnce } from "../at-once.ts";
import type { KubeConfig } from "@kubernetes/client-node";
import { kubeLibrary } from "./library.ts";
import {
  CoalescingCache,
  keychainFrom,
  parseDockerConfig,
  type DockerConfig,
  type Keychain,
} from "../registry/index.ts";

export interface SecretName {
  readonly namespace: string;
  readonly name: string;
}

/** Reads the Secrets and service accounts behind registry credentials (a cache for each). */
export interface PullSecretSource {
  /** A Secret's registry credentials (undefined: none): at once when known, else a promise. */
  dockerConfig(secret: SecretName): AtOnce<DockerConfig | undefined>;
  /** A service account's imagePullSecrets: at once when known, else a promise. */
  serviceAccountPullSecrets(namespace: string, serviceAccount: string): AtOnce<string[]>;
}

const TTL_MS = 30_000;

/**
 * Secrets and service accounts read through the API server, each kept 30 s: a burst of pods
 * from one Deployment reads its pull secret once, and a rotated secret is seen within 30 s.
 * A missing Secret is no credentials, as for the kubelet.
 */
export function apiPullSecretSource(kubeConfig: KubeConfig): PullSecretSource {
  const api = kubeConfig.makeApiClient(kubeLibrary().CoreV1Api);
  const secrets = new CoalescingCache<DockerConfig | undefined>({ maxEntries: 1000 });
  const accounts = new CoalescingCache<string[]>({ maxEntries: 1000 });
  return {
    dockerConfig: (secret) =>
      secrets.getNowOrLoad(
        `${secret.namespace}/${secret.name}`,
        async () => {
          const found = await api.readNamespacedSecret(secret).catch(notFoundAsUndefined);
          return found === undefined
            ? undefined
            : dockerConfigOf(found.data ?? {}, `secret ${secret.namespace}/${secret.name}`);
        },
        () => TTL_MS,
      ),
    serviceAccountPullSecrets: (namespace, name) =>
      accounts.getNowOrLoad(
        `${namespace}/${name}`,
        async () => {
          const account = await api
            .readNamespacedServiceAccount({ namespace, name })
            .catch(notFoundAsUndefined);
          return (account?.imagePullSecrets ?? []).flatMap((ref) =>
            ref.name === undefined ? [] : [ref.name],
          );
        },
        () => TTL_MS,
      ),
  };
}

/** The docker config in a Secret's data (`.dockerconfigjson`, or legacy `.dockercfg`). */
export function dockerConfigOf(
  data: Record<string, string>,
  source: string,
): DockerConfig | undefined {
  const encoded = data[".dockerconfigjson"] ?? data[".dockercfg"];
  if (encoded === undefined) return undefined;
  return parseDockerConfig(Buffer.from(encoded, "base64").toString("utf8"), source);
}

export interface PodCredentials {
  readonly namespace: string;
  readonly podSpec: Record<string, unknown> | undefined;
  /** Use the pod's and its service account's imagePullSecrets (the `--pull-secrets` flag). */
  readonly podSecrets: boolean;
  /** The policy's per-registry Secrets, used after the pod's. */
  readonly registrySecrets: readonly SecretName[];
}

/**
 * The keychain of a pod as the kubelet would build it: its own imagePullSecrets, then its
 * service account's, then the policy's registry Secrets. At once when the source knows them
 * all (the warm review), else a promise.
 */
export function podKeychain(source: PullSecretSource, pod: PodCredentials): AtOnce<Keychain> {
  const { namespace, podSpec } = pod;
  const withAccountSecrets = (accountSecrets: readonly string[]): AtOnce<Keychain> => {
    const names = pod.podSecrets
      ? [...secretNames(podSpec?.imagePullSecrets), ...accountSecrets]
      : [];
    const secrets = [...names.map((name) => ({ namespace, name })), ...pod.registrySecrets];
    const configs = secrets.map((s) => source.dockerConfig(s));
    const keychain = (found: readonly (DockerConfig | undefined)[]): Keychain =>
      keychainFrom(found.filter((c): c is DockerConfig => c !== undefined));
    return andThen(allOf(configs), keychain);
  };
  if (!pod.podSecrets) return withAccountSecrets([]);
  const account =
    typeof podSpec?.serviceAccountName === "string" ? podSpec.serviceAccountName : "default";
  const accountSecrets = source.serviceAccountPullSecrets(namespace, account);
  return andThen(accountSecrets, withAccountSecrets);
}

function secretNames(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((ref: unknown) => {
    const name = (ref as { name?: unknown } | null)?.name;
    return typeof name === "string" && name !== "" ? [name] : [];
  });
}

function notFoundAsUndefined(error: unknown): undefined {
  if ((error as { code?: number }).code === 404) return undefined;
  throw error;
}
