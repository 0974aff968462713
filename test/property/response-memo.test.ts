import assert from "node:assert/strict";
import test from "ava";
import fc from "fast-check";
import { handleReview, type AdmissionDeps } from "../../src/admission/handler.ts";
import {
  buildResponse,
  ORIGINAL_IMAGES_ANNOTATION,
  type Judged,
} from "../../src/admission/respond.ts";
import { ResponseMemo } from "../../src/admission/response-memo.ts";
import type { AdmissionRequest, AdmissionResponse } from "../../src/admission/review.ts";
import type { ReviewEndpoint } from "../../src/admission/roles.ts";
import {
  DECISION_REASONS,
  policyFromText,
  type Decision,
  type Policy,
} from "../../src/policy/index.ts";
import { RegistryError } from "../../src/registry/errors.ts";
import { reportRow } from "../helpers/reliability.ts";
import { applyPatch } from "./json-patch.ts";

// The response memo (src/admission/response-memo.ts) never answers other than buildResponse
// would: over random streams of reviews that repeat, and that change one thing between two
// reviews (a pin, an action, a warning, an annotation…), every memoized answer is deep-equal,
// and equal as JSON, to a fresh one, including once the memo is full and drops entries; and
// through the handler, over streams with policy edits, tag moves and namespace label changes.

const digest = (c: string): string => `sha256:${c.repeat(64)}`;

/** Identical answers as the API server reads them: deep-equal, and the same JSON. */
function sameAnswer(memoized: AdmissionResponse, fresh: AdmissionResponse): void {
  assert.deepStrictEqual(memoized, fresh);
  assert.equal(JSON.stringify(memoized), JSON.stringify(fresh));
}

// ---- buildResponse level: random judged images and decisions ---------------------------------

interface SlotSpec {
  place: string;
  pointer: string;
  image: string;
  action: Decision["action"];
  reason: Decision["reason"];
  /** For mutate: the digest written (undefined: the image is left as written). */
  digest: string | undefined;
  message: string;
  warning: string | undefined;
  audit: string | undefined;
  wouldDeny: boolean;
}

interface ReviewSpec {
  uid: string;
  /** Index into METADATA: the object's metadata (none, not a map, annotations or not, …). */
  metadata: number;
  slots: SlotSpec[];
}

const originals = (value: unknown) => ({ annotations: { [ORIGINAL_IMAGES_ANNOTATION]: value } });
const METADATA: readonly (() => unknown)[] = [
  () => undefined,
  () => null,
  () => "x",
  () => [],
  () => ({}),
  () => ({ annotations: null }),
  () => ({ annotations: [] }),
  () => ({ annotations: { team: "shop" } }),
  () => originals('{"containers[app]":"busybox:1.35"}'),
  () => originals('{"containers[web]":"busybox:1.35"}'),
  () => originals("not json"),
  () => originals("[1]"),
  () => originals(5),
];

// Small pools, so that reviews repeat and differ by one thing.
const places = fc.constantFrom(
  "containers[app]",
  "containers[web]",
  "initContainers[0]",
  "volumes[data]",
  "__proto__",
);
const pointers = fc.constantFrom(
  "/spec/containers/0/image",
  "/spec/containers/1/image",
  "/spec/volumes/0/image/reference",
);
const images = fc.constantFrom(
  "busybox:1.36",
  "ghcr.io/acme/app:v1",
  "nginx",
  `busybox@${digest("d")}`,
  "",
);
const digests = fc.option(fc.constantFrom(digest("d"), digest("e"), digest("2")), {
  nil: undefined,
});
const texts = fc.constantFrom("pinned", "moved to E; approve it", "unpinned", "a\nb", "");
const optionalTexts = fc.option(fc.constantFrom("tag moved", "unpinned image", "x".repeat(120)), {
  nil: undefined,
});

const slotSpec: fc.Arbitrary<SlotSpec> = fc.record({
  place: places,
  pointer: pointers,
  image: images,
  action: fc.constantFrom<Decision["action"]>("mutate", "mutate", "deny", "allow"),
  reason: fc.constantFrom(...DECISION_REASONS),
  digest: digests,
  message: texts,
  warning: optionalTexts,
  audit: optionalTexts,
  wouldDeny: fc.boolean(),
});

const reviewSpec: fc.Arbitrary<ReviewSpec> = fc.record({
  uid: fc.uuid(),
  metadata: fc.nat({ max: METADATA.length - 1 }),
  slots: fc.array(slotSpec, { minLength: 1, maxLength: 3 }),
});

/** One field of one slot (or the review's metadata or uid) changed: what the memo must see. */
type Edit = { from: number; slot: number } & (
  | { field: "uid"; value: string }
  | { field: "metadata"; value: number }
  | { field: keyof SlotSpec; value: SlotSpec }
);

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    from: fc.nat(),
    slot: fc.nat(),
    field: fc.constant("uid" as const),
    value: fc.uuid(),
  }),
  fc.record({
    from: fc.nat(),
    slot: fc.nat(),
    field: fc.constant("metadata" as const),
    value: fc.nat({ max: METADATA.length - 1 }),
  }),
  fc.record({
    from: fc.nat(),
    slot: fc.nat(),
    field: fc.constantFrom<keyof SlotSpec>(
      "place",
      "pointer",
      "image",
      "action",
      "reason",
      "digest",
      "message",
      "warning",
      "audit",
      "wouldDeny",
    ),
    value: slotSpec,
  }),
);

/** A stream: new reviews, and earlier ones repeated with one field changed (or only the uid). */
const stream = fc.array(
  fc.oneof({ arbitrary: reviewSpec, weight: 1 }, { arbitrary: edit, weight: 2 }),
  { minLength: 1, maxLength: 40, size: "max" },
);

function resolveStream(steps: readonly (ReviewSpec | Edit)[]): ReviewSpec[] {
  const reviews: ReviewSpec[] = [];
  for (const step of steps) {
    if ("slots" in step) {
      reviews.push(step);
      continue;
    }
    const base = reviews[step.from % Math.max(1, reviews.length)];
    if (base === undefined) continue;
    const next: ReviewSpec = { ...base, slots: base.slots.map((s) => ({ ...s })) };
    if (step.field === "uid") next.uid = step.value;
    else if (step.field === "metadata") next.metadata = step.value;
    else {
      const slot = next.slots[step.slot % next.slots.length];
      if (slot !== undefined) Object.assign(slot, { [step.field]: step.value[step.field] });
    }
    reviews.push(next);
  }
  return reviews;
}

/** Fresh objects for every review, as the server parses each body anew. */
function materialize(spec: ReviewSpec): { request: AdmissionRequest; judged: Judged[] } {
  const metadata = METADATA[spec.metadata]?.();
  const request: AdmissionRequest = {
    uid: spec.uid,
    kind: { group: "", version: "v1", kind: "Pod" },
    resource: { group: "", version: "v1", resource: "pods" },
    subResource: undefined,
    name: "web",
    namespace: "shop",
    operation: "CREATE",
    username: undefined,
    object: { ...(metadata !== undefined && { metadata }), spec: {} },
    oldObject: undefined,
    dryRun: false,
  };
  const judged = spec.slots.map((s): Judged => {
    const base = {
      reason: s.reason,
      input: s.image,
      message: s.message,
      wouldDeny: s.wouldDeny,
      ...(s.warning !== undefined && { warning: s.warning }),
      ...(s.audit !== undefined && { audit: s.audit }),
    };
    const reference = {
      registry: "docker.io",
      repository: "library/busybox",
      tag: "1.36",
      digest: null,
    };
    const decision: Decision =
      s.action === "mutate"
        ? {
            ...base,
            action: "mutate",
            reference,
            digest: s.digest ?? digest("d"),
            image: s.digest === undefined ? s.image : `${s.image}@${s.digest}`,
          }
        : { ...base, action: s.action, reference: null };
    return { slot: { place: s.place, pointer: s.pointer, image: s.image }, decision };
  });
  return { request, judged };
}

test("memoized answers equal fresh buildResponse answers over random review streams, full memos too", (t) => {
  let reviews = 0;
  let hits = 0;
  let tinyHits = 0;
  fc.assert(
    fc.property(stream, (steps) => {
      // The default size, and one that is full after three distinct image lists.
      const memo = new ResponseMemo();
      const tiny = new ResponseMemo(3, 2);
      const served = new Set<unknown>();
      const tinyServed = new Set<unknown>();
      for (const spec of resolveStream(steps)) {
        const { request, judged } = materialize(spec);
        const fresh = buildResponse(request, judged);
        const answer = memo.answer(request, judged);
        const tinyAnswer = tiny.answer(request, judged);
        sameAnswer(answer, fresh);
        sameAnswer(tinyAnswer, fresh);
        // An answer whose parts an earlier answer already had came from the memo.
        if (served.has(answer.auditAnnotations)) hits++;
        if (tinyServed.has(tinyAnswer.auditAnnotations)) tinyHits++;
        served.add(answer.auditAnnotations);
        tinyServed.add(tinyAnswer.auditAnnotations);
        reviews++;
      }
    }),
    { numRuns: 500 },
  );
  // The property says something only if the memo served a good share of the answers.
  t.true(hits > reviews / 10, `${hits} of ${reviews} answers from the memo`);
  t.true(tinyHits > reviews / 20, `${tinyHits} of ${reviews} answers from the tiny memo`);
  reportRow(t, import.meta.url, {
    section: "inputs",
    subject: "response memo: random review streams, one field changed between reviews",
    tried: `500 streams, ${reviews} reviews (fast-check)`,
    outcome: `every answer equal to buildResponse's; ${hits} served from the memo (${tinyHits} from a memo of 3×2 entries)`,
  });
});

// ---- through the handler: policy edits, tag moves, namespace labels, owners -------------------

const D = digest("d");
const E = digest("e");

interface World {
  pin: string;
  /** The digest the registry serves for busybox:1.36, or "down". */
  served: string;
  mode: "enforce" | "warn" | "audit";
  drift: "deny" | "warn";
  unpinned: "deny" | "allow" | "resolve" | "trust-on-first-use";
  controllerPods: "use-pin" | "strict";
  strictLabel: boolean;
}

const policies = new Map<string, Policy>();
function policyOf(world: World): Policy {
  const text = `apiVersion: digestpin.dev/v1alpha1
kind: Policy
mode: ${world.mode}
unpinned: ${world.unpinned}
drift: ${world.drift}
controllerPods: ${world.controllerPods}
namespaces:
  - selector:
      matchLabels:
        digestpin.dev/strict: "true"
    mode: enforce
    drift: deny
    controllerPods: strict
pins:
  busybox:1.36: ${world.pin}
  ghcr.io/acme/app:v1: ${digest("2")}
`;
  let policy = policies.get(text);
  if (policy === undefined) {
    policy = policyFromText(text, "policy.yaml");
    policies.set(text, policy);
  }
  return policy;
}

function worldDeps(world: World): AdmissionDeps {
  return {
    policy: () => policyOf(world),
    resolve: (ref) => {
      const key = `${ref.registry}/${ref.repository}:${ref.tag ?? ""}`;
      const answer =
        key === "docker.io/library/busybox:1.36"
          ? world.served
          : key === "ghcr.io/acme/app:v1"
            ? digest("2")
            : key === "docker.io/library/nginx:1"
              ? digest("7")
              : undefined;
      if (answer === "down") {
        return Promise.reject(new RegistryError("ERR_REGISTRY_TIMEOUT", ref.registry, "timed out"));
      }
      if (answer === undefined) {
        return Promise.reject(
          new RegistryError("ERR_REGISTRY_NOT_FOUND", ref.registry, `${key} not found`, {
            status: 404,
          }),
        );
      }
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
    namespaceLabels: (namespace) =>
      Promise.resolve(
        namespace === "team" && world.strictLabel ? { "digestpin.dev/strict": "true" } : {},
      ),
  };
}

const worldEdit = fc.oneof(
  fc.record({ pin: fc.constantFrom(D, E) }),
  fc.record({ served: fc.constantFrom(D, E, "down" as const) }),
  fc.record({ mode: fc.constantFrom("enforce" as const, "warn" as const, "audit" as const) }),
  fc.record({ drift: fc.constantFrom("deny" as const, "warn" as const) }),
  fc.record({
    unpinned: fc.constantFrom(
      "deny" as const,
      "allow" as const,
      "resolve" as const,
      "trust-on-first-use" as const,
    ),
  }),
  fc.record({ controllerPods: fc.constantFrom("use-pin" as const, "strict" as const) }),
  fc.record({ strictLabel: fc.boolean() }),
);

const podReview = fc.record({
  uid: fc.uuid(),
  endpoint: fc.constantFrom<ReviewEndpoint>("mutate", "mutate", "validate"),
  namespace: fc.constantFrom("team", "shop"),
  owned: fc.boolean(),
  dryRun: fc.boolean(),
  metadata: fc.nat({ max: METADATA.length - 1 }),
  containers: fc.array(
    fc.record({
      name: fc.constantFrom("app", "web"),
      image: fc.constantFrom("busybox:1.36", "ghcr.io/acme/app:v1", "nginx:1", `busybox:1.36@${E}`),
    }),
    { minLength: 1, maxLength: 3 },
  ),
});

/** An earlier review sent again (as fresh objects) with another uid, after the world changed. */
const repeat = fc.record({ again: fc.nat(), uid: fc.uuid() });

type PodReview = typeof podReview extends fc.Arbitrary<infer R> ? R : never;

function podRequest(review: PodReview): AdmissionRequest {
  const metadata = METADATA[review.metadata]?.();
  const base =
    typeof metadata === "object" && metadata !== null && !Array.isArray(metadata) ? metadata : {};
  const owner = {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    name: "web-1",
    uid: "o",
    controller: true,
  };
  return {
    uid: review.uid,
    kind: { group: "", version: "v1", kind: "Pod" },
    resource: { group: "", version: "v1", resource: "pods" },
    subResource: undefined,
    name: "web",
    namespace: review.namespace,
    operation: "CREATE",
    username: undefined,
    object: {
      metadata: { ...base, name: "web", ...(review.owned && { ownerReferences: [owner] }) },
      spec: { containers: review.containers.map((c) => ({ ...c })) },
    },
    oldObject: undefined,
    dryRun: review.dryRun,
  };
}

interface Counts {
  reviews: number;
  hits: number;
  /** The parts of every answer so far: an answer whose parts were served before is a hit. */
  readonly served: Set<unknown>;
}

/** Sends one review through the handler and checks its answer against a fresh one. */
async function checkReview(review: PodReview, world: World, counts: Counts): Promise<void> {
  const request = podRequest(review);
  // The handler answers through the process-wide memo, warm from earlier streams.
  const { response, judged } = await handleReview(review.endpoint, request, worldDeps(world));
  assert.ok(judged.length > 0);
  sameAnswer(response, buildResponse(request, judged));
  // Independently of the decisions: a rewritten busybox:1.36 names the pin in force now.
  if (response.patch !== undefined) {
    const patched = applyPatch(
      request.object,
      JSON.parse(Buffer.from(response.patch, "base64").toString("utf8")),
    ) as { spec: { containers: { image: string }[] } };
    for (const [i, container] of review.containers.entries()) {
      const now = patched.spec.containers[i]?.image;
      if (container.image === "busybox:1.36" && now !== container.image) {
        assert.equal(now, `busybox:1.36@${world.pin}`);
      }
    }
  }
  if (counts.served.has(response.auditAnnotations)) counts.hits++;
  counts.served.add(response.auditAnnotations);
  counts.reviews++;
}

test("through the handler: answers equal fresh ones over streams with policy edits and tag moves", async (t) => {
  const counts: Counts = { reviews: 0, hits: 0, served: new Set() };
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.oneof(worldEdit, podReview, repeat), {
        minLength: 1,
        maxLength: 30,
        size: "max",
      }),
      async (steps) => {
        const world: World = {
          pin: D,
          served: D,
          mode: "enforce",
          drift: "deny",
          unpinned: "deny",
          controllerPods: "use-pin",
          strictLabel: false,
        };
        const sent: PodReview[] = [];
        for (const step of steps) {
          if ("again" in step) {
            const earlier = sent[step.again % Math.max(1, sent.length)];
            if (earlier !== undefined)
              await checkReview({ ...earlier, uid: step.uid }, world, counts);
          } else if ("uid" in step) {
            sent.push(step);
            await checkReview(step, world, counts);
          } else Object.assign(world, step);
        }
      },
    ),
    { numRuns: 300 },
  );
  const { reviews, hits } = counts;
  t.true(hits > reviews / 5, `${hits} of ${reviews} answers from the memo`);
  reportRow(t, import.meta.url, {
    section: "inputs",
    subject: "response memo through the handler: policy edits, tag moves, namespace labels, owners",
    tried: `300 streams, ${reviews} reviews (fast-check)`,
    outcome: `every answer equal to buildResponse's on the review's decisions; ${hits} served from the memo`,
  });
});
