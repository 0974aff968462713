import { pinKeyOf, tryParseReference } from "../reference/index.ts";
import type { Workload } from "./report.ts";

/** The parts of a Pod the inventory reads (core/v1 Pod, as the API serves it). */
export interface PodView {
  readonly metadata?: {
    readonly namespace?: string;
    readonly name?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly ownerReferences?: readonly {
      readonly kind: string;
      readonly name: string;
      readonly controller?: boolean;
    }[];
  };
  readonly spec?: {
    readonly containers: readonly ContainerView[];
    readonly initContainers?: readonly ContainerView[];
  };
  readonly status?: {
    readonly containerStatuses?: readonly StatusView[];
    readonly initContainerStatuses?: readonly StatusView[];
  };
}

/** A Deployment, StatefulSet or DaemonSet (apps/v1): its Pod template's containers. */
export interface WorkloadView {
  readonly kind: string;
  readonly metadata?: { readonly namespace?: string; readonly name?: string } | undefined;
  readonly spec?:
    | {
        readonly template?:
          | {
              readonly spec?:
                | {
                    readonly containers: readonly ContainerView[];
                    readonly initContainers?: readonly ContainerView[] | undefined;
                  }
                | undefined;
            }
          | undefined;
      }
    | undefined;
}

interface ContainerView {
  readonly name: string;
  readonly image?: string;
}

interface StatusView {
  readonly name: string;
  readonly image: string;
  readonly imageID: string;
}

/** Pinned tag (canonical key) → the workloads using it, by namespace, kind and name. */
export type Inventory = ReadonlyMap<string, readonly Workload[]>;

/**
 * Which workloads use each tag, and at which digests their Pods run it: the workloads' Pod
 * templates (a Deployment is found before any Pod of it exists), then every Pod, counted under
 * the workload that owns it (a ReplicaSet's Pod under its Deployment, by the
 * `pod-template-hash` label) with the digest of its container's `imageID`. Pure.
 */
export function buildInventory(
  workloads: readonly WorkloadView[],
  pods: readonly PodView[],
): Inventory {
  const found = new Map<
    string,
    Map<string, { workload: Omit<Workload, "running">; running: Set<string> }>
  >();
  const add = (image: string | undefined, workload: Omit<Workload, "running">, digest?: string) => {
    const key = keyOf(image);
    if (key === undefined) return;
    let users = found.get(key);
    if (users === undefined) {
      users = new Map();
      found.set(key, users);
    }
    const id = `${workload.namespace}/${workload.kind}/${workload.name}`;
    let user = users.get(id);
    if (user === undefined) users.set(id, (user = { workload, running: new Set() }));
    if (digest !== undefined) user.running.add(digest);
  };
  for (const workload of workloads) {
    const spec = workload.spec?.template?.spec;
    const who = {
      namespace: workload.metadata?.namespace ?? "",
      kind: workload.kind,
      name: workload.metadata?.name ?? "",
    };
    for (const container of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])])
      add(container.image, who);
  }
  for (const pod of pods) {
    const who = { namespace: pod.metadata?.namespace ?? "", ...ownerOf(pod) };
    const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
    const statuses = [
      ...(pod.status?.containerStatuses ?? []),
      ...(pod.status?.initContainerStatuses ?? []),
    ];
    for (const container of containers) {
      const status = statuses.find((s) => s.name === container.name);
      add(container.image, who, digestOfImageId(status?.imageID));
    }
  }
  const inventory = new Map<string, Workload[]>();
  for (const [key, users] of found) {
    inventory.set(
      key,
      [...users.values()]
        .map(({ workload, running }) => ({ ...workload, running: [...running].sort() }))
        .sort((a, b) =>
          `${a.namespace}/${a.kind}/${a.name}` < `${b.namespace}/${b.kind}/${b.name}` ? -1 : 1,
        ),
    );
  }
  return inventory;
}

/** The workload a Pod belongs to: its controller (a ReplicaSet's Deployment), else the Pod. */
export function ownerOf(pod: PodView): { kind: string; name: string } {
  const owner =
    pod.metadata?.ownerReferences?.find((ref) => ref.controller === true) ??
    pod.metadata?.ownerReferences?.[0];
  if (owner === undefined) return { kind: "Pod", name: pod.metadata?.name ?? "" };
  const hash = pod.metadata?.labels?.["pod-template-hash"];
  if (owner.kind === "ReplicaSet" && hash !== undefined && owner.name.endsWith(`-${hash}`))
    return { kind: "Deployment", name: owner.name.slice(0, -hash.length - 1) };
  return { kind: owner.kind, name: owner.name };
}

/** `docker-pullable://repo@sha256:…`, `repo@sha256:…` or `sha256:…` → `sha256:…`. */
export function digestOfImageId(imageId: string | undefined): string | undefined {
  if (imageId === undefined || imageId === "") return undefined;
  const at = imageId.lastIndexOf("@");
  const digest = at === -1 ? imageId : imageId.slice(at + 1);
  return /^sha(256|512):[a-f0-9]+$/.test(digest) ? digest : undefined;
}

function keyOf(image: string | undefined): string | undefined {
  if (image === undefined) return undefined;
  const parsed = tryParseReference(image);
  return parsed.ok ? (pinKeyOf(parsed.reference) ?? undefined) : undefined;
}
