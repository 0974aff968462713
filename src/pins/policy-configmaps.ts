import type { KubeConfig, V1ConfigMap } from "@kubernetes/client-node";
import { DigestpinError, invariantBroken } from "../errors.ts";
import { ConfigMapConflictError, ConfigMaps } from "../kube/index.ts";
import {
  configMapSource,
  PINS_KEY,
  PINS_LABEL_SELECTOR,
  POLICY_CONFIGMAP,
  POLICY_KEY,
} from "../policy/index.ts";
import {
  PolicyConflictError,
  type PolicySnapshot,
  type PolicyStore,
  type StoredDocument,
} from "./policy-store.ts";

/** The documents of a cluster's policy, with the ConfigMaps (and versions) they came from. */
export interface ConfigMapSnapshot extends PolicySnapshot {
  readonly configMaps: ReadonlyMap<string, { configMap: V1ConfigMap; key: string }>;
}

/**
 * The policy as the webhook reads it, for the CLI: the policy ConfigMap (key policy.yaml) and
 * every ConfigMap labelled digestpin.dev/pins=true (key pins.yaml), sorted by name. Writes
 * replace one key of a ConfigMap at the resourceVersion it was read at.
 */
export class PolicyConfigMaps implements PolicyStore<ConfigMapSnapshot> {
  readonly description: string;
  readonly #configMaps: ConfigMaps;

  constructor(
    kubeConfig: KubeConfig,
    private readonly namespace: string,
    private readonly policyName: string = POLICY_CONFIGMAP,
  ) {
    this.#configMaps = new ConfigMaps(kubeConfig, namespace);
    this.description = configMapSource(namespace, policyName);
  }

  async read(): Promise<ConfigMapSnapshot> {
    const [policy, pins] = await Promise.all([
      this.#configMaps.get(this.policyName),
      this.#configMaps.list(PINS_LABEL_SELECTOR),
    ]);
    if (policy === undefined) {
      throw new DigestpinError(
        "ERR_POLICY_MISSING",
        `${this.description} does not exist (is digestpin installed there? --namespace and --configmap say where to look)`,
      );
    }
    const documents: StoredDocument[] = [];
    const configMaps = new Map<string, { configMap: V1ConfigMap; key: string }>();
    const add = (configMap: V1ConfigMap, key: string, kind: StoredDocument["kind"]) => {
      const name = configMapSource(this.namespace, configMap.metadata?.name ?? "");
      documents.push({ name, kind, text: configMap.data?.[key] ?? "" });
      configMaps.set(name, { configMap, key });
    };
    add(policy, POLICY_KEY, "Policy");
    const others = pins
      .filter((cm) => cm.metadata?.name !== this.policyName)
      .toSorted((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
    for (const configMap of others) add(configMap, PINS_KEY, "Pins");
    return { documents, configMaps };
  }

  async write(snapshot: ConfigMapSnapshot, changes: ReadonlyMap<string, string>): Promise<void> {
    for (const [name, text] of changes) {
      const stored = snapshot.configMaps.get(name);
      if (stored === undefined) throw invariantBroken(`${name} is not a document of this policy`);
      try {
        await this.#configMaps.update(stored.configMap, { [stored.key]: text });
      } catch (error) {
        if (error instanceof ConfigMapConflictError)
          throw new PolicyConflictError(name, { cause: error });
        throw error;
      }
    }
  }
}
