import type { KubeConfig, V1ConfigMap } from "@kubernetes/client-node";
import { managedBy } from "./managed-by.ts";
import { DigestpinError, invariantBroken } from "../errors.ts";
import { ConfigMapConflictError, ConfigMaps } from "../kube/index.ts";
import {
  configMapSource,
  PINS_KEY,
  PINS_LABEL,
  PINS_LABEL_SELECTOR,
  POLICY_CONFIGMAP,
  POLICY_KEY,
  type PinRecord,
} from "../policy/index.ts";
import { placePins } from "./placement.ts";
import {
  PolicyConflictError,
  type PolicySnapshot,
  type PolicyStore,
  type StoredDocument,
} from "./policy-store.ts";
import {
  isStoreName,
  shardIndex,
  STORE_LABEL,
  storeDescription,
  type StoreLayout,
} from "./store-layout.ts";

/** The documents of a cluster's policy, with the ConfigMaps (and versions) they came from. */
export interface ConfigMapSnapshot extends PolicySnapshot {
  readonly configMaps: ReadonlyMap<string, { configMap: V1ConfigMap; key: string }>;
}

/**
 * The policy as the webhook reads it, for the CLI: the policy ConfigMap (key policy.yaml) and
 * every ConfigMap labelled digestpin.dev/pins=true (key pins.yaml), sorted by name. Of these,
 * digestpin changes only its pin store's (store-layout.ts): new pins go there, and approvals
 * and removals edit pins there; the policy ConfigMap and people's pins ConfigMaps are never
 * written. Writes replace one key of a ConfigMap at the resourceVersion it was read at; a new
 * shard of the store is created.
 */
export class PolicyConfigMaps implements PolicyStore<ConfigMapSnapshot> {
  readonly description: string;
  readonly pinsGoTo: string;
  readonly namespace: string;
  readonly #configMaps: ConfigMaps;

  constructor(
    kubeConfig: KubeConfig,
    private readonly layout: StoreLayout,
    private readonly policyName: string = POLICY_CONFIGMAP,
  ) {
    this.namespace = layout.namespace;
    this.#configMaps = new ConfigMaps(kubeConfig, layout.namespace);
    this.description = configMapSource(layout.namespace, policyName);
    this.pinsGoTo = storeDescription(layout);
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
      const name = configMap.metadata?.name ?? "";
      const source = configMapSource(this.layout.namespace, name);
      const store = kind === "Pins" && isStoreName(this.layout, name);
      const manager = store ? undefined : managedBy(configMap);
      documents.push({
        name: source,
        kind,
        text: configMap.data?.[key] ?? "",
        owned: store,
        ...(manager !== undefined && { managedBy: manager }),
      });
      configMaps.set(source, { configMap, key });
    };
    add(policy, POLICY_KEY, "Policy");
    const others = pins
      .filter((cm) => cm.metadata?.name !== this.policyName)
      .toSorted((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
    for (const configMap of others) add(configMap, PINS_KEY, "Pins");
    return { documents, configMaps };
  }

  /** Whether `source` (`configmap NS/NAME`) is a numbered shard of the pin store. */
  isShard(source: string): boolean {
    const prefix = configMapSource(this.layout.namespace, "");
    return (
      source.startsWith(prefix) &&
      shardIndex(this.layout, source.slice(prefix.length)) !== undefined
    );
  }

  placePins(snapshot: ConfigMapSnapshot, records: readonly PinRecord[]): Map<string, string> {
    const prefix = configMapSource(this.layout.namespace, "");
    const shards = snapshot.documents
      .filter((d) => d.owned)
      .map((d) => ({ name: d.name.slice(prefix.length), text: d.text }));
    const placed = placePins(this.layout, shards, records);
    return new Map([...placed].map(([name, text]) => [`${prefix}${name}`, text]));
  }

  async write(
    snapshot: ConfigMapSnapshot,
    changes: ReadonlyMap<string, string | null>,
  ): Promise<void> {
    const prefix = configMapSource(this.layout.namespace, "");
    for (const [source, text] of changes) {
      const name = source.slice(prefix.length);
      const stored = snapshot.configMaps.get(source);
      const owned = snapshot.documents.find((d) => d.name === source)?.owned ?? false;
      try {
        if (stored === undefined) {
          if (text === null || !isStoreName(this.layout, name))
            throw invariantBroken(`${source} is not a document of this policy, to change`);
          await this.#configMaps.create(name, storeLabels(), { [PINS_KEY]: text });
        } else if (text === null) {
          if (!owned) throw invariantBroken(`${source} is not digestpin's to delete`);
          await this.#configMaps.delete(stored.configMap);
        } else {
          await this.#configMaps.update(stored.configMap, { [stored.key]: text });
        }
      } catch (error) {
        if (error instanceof ConfigMapConflictError)
          throw new PolicyConflictError(source, { cause: error });
        throw error;
      }
    }
  }
}

/** The labels of a shard of the pin store: a pins ConfigMap, and digestpin's. */
export function storeLabels(): Record<string, string> {
  return {
    [PINS_LABEL]: "true",
    [STORE_LABEL]: "true",
    "app.kubernetes.io/managed-by": "digestpin",
  };
}
