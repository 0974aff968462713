import type { KubeConfig } from "@kubernetes/client-node";
import { kubeLibrary } from "./library.ts";
import { CoalescingCache } from "../registry/index.ts";

/** A Secret's or ConfigMap's data key in one namespace. */
export interface ObjectKey {
  readonly kind: "Secret" | "ConfigMap";
  readonly name: string;
  readonly key: string;
}

const TTL_MS = 30_000;

/**
 * Reads one data key of a Secret or ConfigMap in `namespace` (a Secret's value decoded), kept
 * 30 s: a burst of reviews reads it once, and a changed object is seen within 30 s. undefined
 * when the object or the key does not exist; other API errors are thrown.
 */
export function objectKeyReader(
  kubeConfig: KubeConfig,
  namespace: string,
): (ref: ObjectKey) => Promise<string | undefined> {
  const api = kubeConfig.makeApiClient(kubeLibrary().CoreV1Api);
  const cache = new CoalescingCache<string | undefined>({ maxEntries: 200 });
  return (ref) =>
    cache.getOrLoad(
      `${ref.kind}/${ref.name}/${ref.key}`,
      async () => {
        if (ref.kind === "Secret") {
          const secret = await api
            .readNamespacedSecret({ namespace, name: ref.name })
            .catch(notFound);
          const encoded = secret?.data?.[ref.key];
          return encoded === undefined
            ? undefined
            : Buffer.from(encoded, "base64").toString("utf8");
        }
        const configMap = await api
          .readNamespacedConfigMap({ namespace, name: ref.name })
          .catch(notFound);
        return configMap?.data?.[ref.key];
      },
      () => TTL_MS,
    );
}

function notFound(error: unknown): undefined {
  if ((error as { code?: number } | null)?.code === 404) return undefined;
  throw error;
}
