import type { AdmissionDeps } from "../../../src/admission/handler.ts";
import type { AdmissionRequest } from "../../../src/admission/review.ts";
import type { PinRecord, Policy } from "../../../src/policy/index.ts";
import { RegistryError } from "../../../src/registry/errors.ts";
import { policyOf } from "../policy/fixtures.ts";

export const digest = (c: string): string => `sha256:${c.repeat(64)}`;
export const D = digest("d");
export const E = digest("e");

/** A policy pinning busybox:1.36 to D and ghcr.io/acme/app:v1 to another digest. */
export function pinnedPolicy(settings = ""): Policy {
  return policyOf(`${settings}
pins:
  busybox:1.36:
    digest: ${D}
    pinnedAt: "2026-11-26T10:00:00Z"
    pinnedBy: alice@example.com
  ghcr.io/acme/app:v1: ${digest("2")}
`);
}

/** What the fake registry serves: canonical `registry/repo:tag` → digest, or an error code. */
export type Registry = Record<string, string | RegistryError>;

export interface Harness {
  readonly deps: AdmissionDeps;
  readonly lookups: string[];
  readonly recorded: Map<string, PinRecord>;
}

export function harness(
  policy: Policy | undefined,
  registry: Registry,
  overrides: Partial<AdmissionDeps> = {},
): Harness {
  const lookups: string[] = [];
  const recorded = new Map<string, PinRecord>();
  const deps: AdmissionDeps = {
    policy: () => policy,
    resolve: (ref) => {
      const key = `${ref.registry}/${ref.repository}:${ref.tag ?? ""}`;
      lookups.push(key);
      const answer = registry[key];
      if (answer === undefined) {
        return Promise.reject(
          new RegistryError("ERR_REGISTRY_NOT_FOUND", ref.registry, `${key} not found`, {
            status: 404,
          }),
        );
      }
      if (answer instanceof RegistryError) return Promise.reject(answer);
      return Promise.resolve({
        digest: answer,
        mediaType: "application/vnd.oci.image.index.v1+json",
        size: 1,
        platforms: undefined,
        endpoint: "x",
      });
    },
    keychainFor: () => Promise.resolve(() => undefined),
    recordPin: (key, record) => {
      if (!recorded.has(key)) recorded.set(key, record);
      return Promise.resolve(recorded.get(key)?.digest ?? record.digest);
    },
    mutateTemplates: false,
    budgetMs: 1000,
    now: () => 0,
    ...overrides,
  };
  return { deps, lookups, recorded };
}

const GROUPS: Record<string, [string, string, string]> = {
  Pod: ["", "v1", "pods"],
  PodTemplate: ["", "v1", "podtemplates"],
  ReplicationController: ["", "v1", "replicationcontrollers"],
  Deployment: ["apps", "v1", "deployments"],
  StatefulSet: ["apps", "v1", "statefulsets"],
  DaemonSet: ["apps", "v1", "daemonsets"],
  ReplicaSet: ["apps", "v1", "replicasets"],
  Job: ["batch", "v1", "jobs"],
  CronJob: ["batch", "v1", "cronjobs"],
  ConfigMap: ["", "v1", "configmaps"],
};

export function request(
  kind: string,
  object: unknown,
  options: Partial<
    Pick<AdmissionRequest, "operation" | "oldObject" | "dryRun" | "namespace" | "subResource">
  > = {},
): AdmissionRequest {
  const [group, version, resource] = GROUPS[kind] ?? ["", "v1", kind.toLowerCase()];
  return {
    uid: "7b0f1f6c-uid",
    kind: { group, version, kind },
    resource: { group, version, resource },
    subResource: options.subResource,
    name: "subject",
    namespace: options.namespace ?? "team",
    operation: options.operation ?? "CREATE",
    username: "alice",
    object,
    oldObject: options.oldObject,
    dryRun: options.dryRun ?? false,
  };
}

/** A pod spec with the given containers (name → image). */
export function podSpec(containers: Record<string, string>, extra: Record<string, unknown> = {}) {
  return {
    containers: Object.entries(containers).map(([name, image]) => ({ name, image })),
    ...extra,
  };
}

export const pod = (spec: object, metadata: object = { name: "subject" }) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata,
  spec,
});

export function decodePatch(patch: string | undefined): unknown {
  return patch === undefined
    ? undefined
    : JSON.parse(Buffer.from(patch, "base64").toString("utf8"));
}
