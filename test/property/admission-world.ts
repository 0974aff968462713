import fc from "fast-check";
import { findImages } from "../../src/admission/images.ts";
import type { AdmissionDeps } from "../../src/admission/handler.ts";
import { policyFromText, type Policy } from "../../src/policy/index.ts";
import { tryParseReference } from "../../src/reference/index.ts";
import { RegistryError } from "../../src/registry/errors.ts";
import { anyString, imageString } from "./arbitraries.ts";

/**
 * A small world for admission properties: a policy, what a (fake) registry serves, and an
 * independent oracle of which images may ever be admitted.
 */

export const digest = (c: string): string => `sha256:${c.repeat(64)}`;
export const PINNED = digest("d"); // busybox:1.36, still served
export const DRIFT_PIN = digest("2"); // ghcr.io/acme/app:v1 is pinned to this…
export const DRIFTED = digest("3"); // …but the registry now serves this
export const DOWN_PIN = digest("4"); // ghcr.io/acme/down:v1: the registry cannot answer
export const GONE_PIN = digest("5"); // ghcr.io/acme/gone:v1: the registry says 404
export const UNKNOWN = digest("e"); // pinned nowhere

export const EXEMPT_NAMESPACE = "kube-system";

export const policyText = (settings = "") => `apiVersion: digestpin.dev/v1alpha1
kind: Policy
mode: enforce
unpinned: deny
drift: deny
registryUnavailable: use-pin
exempt:
  namespaces: [${EXEMPT_NAMESPACE}]
${settings}
pins:
  busybox:1.36: ${PINNED}
  ghcr.io/acme/app:v1: ${DRIFT_PIN}
  ghcr.io/acme/down:v1: ${DOWN_PIN}
  ghcr.io/acme/gone:v1: ${GONE_PIN}
`;

export const policy: Policy = policyFromText(policyText(), "policy.yaml");

/** Canonical repository → the digests pinned for it; canonical `repo:tag` → its pin. */
const pinnedDigests = new Map<string, string[]>([
  ["docker.io/library/busybox", [PINNED]],
  ["ghcr.io/acme/app", [DRIFT_PIN]],
  ["ghcr.io/acme/down", [DOWN_PIN]],
  ["ghcr.io/acme/gone", [GONE_PIN]],
]);
const pins = new Map<string, string>([
  ["docker.io/library/busybox:1.36", PINNED],
  ["ghcr.io/acme/app:v1", DRIFT_PIN],
  ["ghcr.io/acme/down:v1", DOWN_PIN],
  ["ghcr.io/acme/gone:v1", GONE_PIN],
]);

/** What the registry answers for `registry/repository:tag`. */
const served: Record<string, string | (() => RegistryError)> = {
  "docker.io/library/busybox:1.36": PINNED,
  "ghcr.io/acme/app:v1": DRIFTED,
  "ghcr.io/acme/down:v1": () =>
    new RegistryError("ERR_REGISTRY_TIMEOUT", "ghcr.io", "ghcr.io did not answer in time"),
  "docker.io/library/nginx:1": UNKNOWN,
};

export const KNOWN_IMAGES = [
  "busybox:1.36",
  "busybox",
  `busybox:1.36@${PINNED}`,
  `busybox@${PINNED}`,
  `busybox:1.37@${PINNED}`,
  `busybox:1.36@${UNKNOWN}`,
  `busybox@${UNKNOWN}`,
  "docker.io/library/busybox:1.36",
  "BusyBox:1.36",
  "ghcr.io/acme/app:v1",
  `ghcr.io/acme/app:v1@${DRIFT_PIN}`,
  `ghcr.io/acme/app@${DRIFTED}`,
  `ghcr.io/acme/app:v1@${DRIFTED}`,
  "ghcr.io/acme/down:v1",
  "ghcr.io/acme/gone:v1",
  "nginx:1",
  "169.254.169.254/latest/meta-data:1",
  "localhost:5000/app:1",
  "",
  " ",
] as const;

/** The fake registry: answers at once, like test/unit/admission/fixtures.ts's harness. */
export function worldDeps(overrides: Partial<AdmissionDeps> = {}): AdmissionDeps {
  return {
    policy: () => policy,
    resolve: (ref) => {
      const key = `${ref.registry}/${ref.repository}:${ref.tag ?? ""}`;
      const answer = served[key];
      if (answer === undefined) {
        return Promise.reject(
          new RegistryError("ERR_REGISTRY_NOT_FOUND", ref.registry, `${key} not found`, {
            status: 404,
          }),
        );
      }
      if (typeof answer === "function") return Promise.reject(answer());
      return Promise.resolve({
        digest: answer,
        mediaType: "application/vnd.oci.image.index.v1+json",
        size: 1,
        platforms: undefined,
        endpoint: "fake",
      });
    },
    keychainFor: () => Promise.resolve(() => undefined),
    recordPin: (_key, record) => Promise.resolve(record.digest),
    mutateTemplates: false,
    budgetMs: 1000,
    now: Date.now,
    ...overrides,
  };
}

/**
 * The oracle, written apart from decide(): may `image` be in an admitted object? A digest must
 * be pinned for its repository (and, with a pinned tag, be that tag's pin). A bare tag may only
 * pass in a workload template (`tagsAllowed`), and only if it is pinned and not drifted.
 */
export function admissible(image: string, namespace: string, tagsAllowed: boolean): boolean {
  if (namespace === EXEMPT_NAMESPACE) return true;
  const parsed = tryParseReference(image);
  if (!parsed.ok) return false;
  const { registry, repository, tag, digest: named } = parsed.reference;
  const key = `${registry}/${repository}:${tag ?? ""}`;
  if (named !== null) {
    const pin = tag === null ? undefined : pins.get(key);
    return (
      (pinnedDigests.get(`${registry}/${repository}`) ?? []).includes(named) &&
      (pin === undefined || pin === named)
    );
  }
  return (
    tagsAllowed && pins.has(key) && key !== "ghcr.io/acme/app:v1" && key !== "ghcr.io/acme/gone:v1"
  );
}

/** Where each kind keeps its pod spec. */
const WRAP: Record<string, (spec: unknown) => Record<string, unknown>> = {
  Pod: (spec) => ({ spec }),
  PodTemplate: (spec) => ({ template: { spec } }),
  Deployment: (spec) => ({ spec: { template: { spec } } }),
  StatefulSet: (spec) => ({ spec: { template: { spec } } }),
  DaemonSet: (spec) => ({ spec: { template: { spec } } }),
  ReplicaSet: (spec) => ({ spec: { template: { spec } } }),
  ReplicationController: (spec) => ({ spec: { template: { spec } } }),
  Job: (spec) => ({ spec: { template: { spec } } }),
  CronJob: (spec) => ({ spec: { jobTemplate: { spec: { template: { spec } } } } }),
};
export const POD_KINDS = Object.keys(WRAP);
const ODD_KINDS = [
  "ConfigMap",
  "Service",
  "",
  "constructor",
  "__proto__",
  "toString",
  "hasOwnProperty",
];

const image = imageString(KNOWN_IMAGES);
const name = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.constant(undefined));
const container = fc.record(
  {
    name,
    image: fc.oneof({ weight: 9, arbitrary: image }, { weight: 1, arbitrary: fc.jsonValue() }),
  },
  { requiredKeys: [] },
);
const containers = fc.oneof(
  { weight: 9, arbitrary: fc.array(container, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.jsonValue() },
);
const volume = fc.record(
  { name, image: fc.record({ reference: image }, { requiredKeys: [] }), emptyDir: fc.constant({}) },
  { requiredKeys: [] },
);
const specFields = {
  containers,
  initContainers: containers,
  ephemeralContainers: containers,
  volumes: fc.oneof(fc.array(volume, { maxLength: 3 }), fc.jsonValue()),
  nodeName: fc.string(),
};
/** A pod spec: every place images live, each sometimes malformed. */
export const podSpec = fc.oneof(
  { weight: 8, arbitrary: fc.record(specFields, { requiredKeys: ["containers"] }) },
  { weight: 4, arbitrary: fc.record(specFields, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.jsonValue() },
);

const metadata = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  {
    weight: 6,
    arbitrary: fc.record(
      {
        name: fc.string({ maxLength: 10 }),
        annotations: fc.oneof(
          fc.constant({}),
          fc.record({
            "digestpin.dev/original-images": fc.oneof(
              anyString,
              fc.constant('{"containers[a]":"x:1"}'),
            ),
          }),
          fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), { maxKeys: 3 }),
          fc.jsonValue(),
        ),
      },
      { requiredKeys: [] },
    ),
  },
  // The API server decodes objects before admission, so these do not reach a real webhook.
  { weight: 1, arbitrary: fc.oneof(fc.constant(null), fc.integer(), fc.array(fc.string())) },
);

export interface GeneratedReview {
  readonly body: {
    apiVersion: string;
    kind: string;
    request: Record<string, unknown>;
  };
  readonly kind: string;
  readonly namespace: string;
}

/** A well-formed AdmissionReview whose object (and old object) carry arbitrary pod specs. */
export const validReview: fc.Arbitrary<GeneratedReview> = fc
  .record({
    uid: fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 40 })),
    kind: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...POD_KINDS) },
      { weight: 1, arbitrary: fc.constantFrom(...ODD_KINDS) },
    ),
    operation: fc.constantFrom("CREATE", "CREATE", "UPDATE", "DELETE", "CONNECT"),
    namespace: fc.oneof(
      fc.constantFrom("team", EXEMPT_NAMESPACE, ""),
      fc.string({ maxLength: 12 }),
    ),
    spec: podSpec,
    oldSpec: fc.option(podSpec, { nil: undefined }),
    sameOld: fc.boolean(),
    metadata,
    dryRun: fc.oneof(fc.boolean(), fc.jsonValue()),
  })
  .map(({ uid, kind, operation, namespace, spec, oldSpec, sameOld, metadata, dryRun }) => {
    const wrap = Object.hasOwn(WRAP, kind) ? WRAP[kind]! : WRAP.Pod!;
    const object = {
      apiVersion: "v1",
      kind,
      ...(metadata !== undefined && { metadata }),
      ...wrap(spec),
    };
    const oldObject =
      operation === "UPDATE"
        ? sameOld
          ? structuredClone(object)
          : { kind, ...wrap(oldSpec ?? {}) }
        : undefined;
    const request: Record<string, unknown> = {
      uid,
      kind: { group: "", version: "v1", kind },
      resource: { group: "", version: "v1", resource: `${kind.toLowerCase()}s` },
      name: "subject",
      namespace,
      operation,
      userInfo: { username: "alice" },
      object,
      dryRun,
    };
    if (oldObject !== undefined) request.oldObject = oldObject;
    return {
      body: { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request },
      kind,
      namespace,
    };
  });

/** The pointers of the image slots of `object` that differ from `oldObject` (all on CREATE). */
export function changedPointers(kind: string, object: unknown, oldObject: unknown): string[] {
  const before = new Map(findImages(kind, oldObject).map((s) => [s.pointer, s.image]));
  return findImages(kind, object)
    .filter((slot) => before.get(slot.pointer) !== slot.image)
    .map((slot) => slot.pointer);
}

/** The image at each pointer of `object`. */
export function imagesAt(kind: string, object: unknown): Map<string, string> {
  return new Map(findImages(kind, object).map((s) => [s.pointer, s.image]));
}

/** Sets `value` at a random place of a JSON value (a corrupted review). */
export function corrupt(value: unknown, path: readonly number[], replacement: unknown): unknown {
  if (path.length === 0 || typeof value !== "object" || value === null) return replacement;
  const keys = Object.keys(value);
  if (keys.length === 0) return replacement;
  const [head = 0, ...rest] = path;
  const key = keys[head % keys.length]!;
  const copy: Record<string, unknown> = Array.isArray(value) ? ([...value] as never) : { ...value };
  copy[key] = corrupt((value as Record<string, unknown>)[key], rest, replacement);
  return copy;
}
