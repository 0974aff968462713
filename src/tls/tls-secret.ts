import type { KubernetesObjectApi } from "@kubernetes/client-node";
import { isApiException } from "../kube/index.ts";
import type { SecretName } from "../kube/index.ts";
import type { TlsSecretData } from "./rotation.ts";

/** A Secret as plain data (a read, a watch event). */
export interface SecretObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
    readonly labels?: Readonly<Record<string, string>>;
  };
  readonly type?: string;
  readonly data?: Readonly<Record<string, string>>;
}

/** The Secret as read: its TLS data, and the object to base an update on. */
export interface StoredTlsSecret {
  readonly data: TlsSecretData;
  readonly resourceVersion: string;
  readonly object: SecretObject;
}

/**
 * The Secret's keys: `kubernetes.io/tls` (tls.crt, tls.key) plus `ca.crt` as cert-manager
 * writes it, and the CA's key, which only digestpin reads.
 */
export const TLS_SECRET_KEYS = {
  caBundle: "ca.crt",
  caKey: "ca.key",
  cert: "tls.crt",
  key: "tls.key",
} as const satisfies Record<keyof TlsSecretData, string>;

const LABELS = {
  "app.kubernetes.io/name": "digestpin",
  "app.kubernetes.io/component": "webhook-tls",
  "app.kubernetes.io/managed-by": "digestpin",
};

/**
 * Reads and writes the self-managed TLS Secret with optimistic concurrency: `create` and
 * `replace` return undefined when another replica got there first (409), and the caller reads
 * again and decides again. Other keys, labels and annotations of the Secret are kept.
 */
export class TlsSecretStore {
  readonly #objects: KubernetesObjectApi;
  readonly #ref: SecretName;

  constructor(objects: KubernetesObjectApi, ref: SecretName) {
    this.#objects = objects;
    this.#ref = ref;
  }

  get ref(): SecretName {
    return this.#ref;
  }

  async read(): Promise<StoredTlsSecret | undefined> {
    try {
      const secret = await this.#objects.read<SecretObject>({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: this.#ref.name, namespace: this.#ref.namespace },
      });
      return decodeTlsSecret(secret);
    } catch (error) {
      if (isApiException(error) && error.code === 404) return undefined;
      throw error;
    }
  }

  /** Creates the Secret; undefined when it exists already. */
  async create(data: TlsSecretData): Promise<StoredTlsSecret | undefined> {
    const secret: SecretObject = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: this.#ref.name, namespace: this.#ref.namespace, labels: LABELS },
      type: "kubernetes.io/tls",
      data: encode(data),
    };
    return this.#write(() => this.#objects.create(secret));
  }

  /** Replaces the data of `stored`; undefined when the Secret changed since it was read. */
  async replace(
    stored: StoredTlsSecret,
    data: TlsSecretData,
  ): Promise<StoredTlsSecret | undefined> {
    const secret: SecretObject = {
      ...stored.object,
      apiVersion: "v1",
      kind: "Secret",
      data: { ...stored.object.data, ...encode(data) },
    };
    return this.#write(() => this.#objects.replace(secret));
  }

  async #write(request: () => Promise<SecretObject>): Promise<StoredTlsSecret | undefined> {
    try {
      return decodeTlsSecret(await request());
    } catch (error) {
      // 409: AlreadyExists on create, Conflict (stale resourceVersion) on replace.
      if (isApiException(error) && error.code === 409) return undefined;
      throw error;
    }
  }
}

/** The TLS data of a Secret object (from a read or a watch event); "" for a missing key. */
export function decodeTlsSecret(secret: SecretObject): StoredTlsSecret {
  const field = (key: string): string => {
    const value = secret.data?.[key];
    return value === undefined ? "" : Buffer.from(value, "base64").toString("utf8");
  };
  return {
    data: {
      caBundle: field(TLS_SECRET_KEYS.caBundle),
      caKey: field(TLS_SECRET_KEYS.caKey),
      cert: field(TLS_SECRET_KEYS.cert),
      key: field(TLS_SECRET_KEYS.key),
    },
    resourceVersion: secret.metadata?.resourceVersion ?? "",
    object: secret,
  };
}

function encode(data: TlsSecretData): Record<string, string> {
  const base64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");
  return {
    [TLS_SECRET_KEYS.caBundle]: base64(data.caBundle),
    [TLS_SECRET_KEYS.caKey]: base64(data.caKey),
    [TLS_SECRET_KEYS.cert]: base64(data.cert),
    [TLS_SECRET_KEYS.key]: base64(data.key),
  };
}
