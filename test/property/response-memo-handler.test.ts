import assert from "node:assert/strict";
import test from "ava";
import fc from "fast-check";
import { handleReview, type AdmissionDeps } from "../../src/admission/handler.ts";
import { buildResponse, ORIGINAL_IMAGES_ANNOTATION } from "../../src/admission/respond.ts";
import {
  admissionReview,
  type AdmissionRequest,
  type AdmissionResponse,
} from "../../src/admission/review.ts";
import type { ReviewEndpoint } from "../../src/admission/roles.ts";
import { policyFromText, type Policy } from "../../src/policy/index.ts";
import { RegistryError } from "../../src/registry/errors.ts";
import { reportRow } from "../helpers/reliability.ts";
import { applyPatch } from "./json-patch.ts";

// The handler answers through the process-wide response memo (src/admission/response-memo.ts):
// over random streams of Pod reviews, sent again after policy edits, tag moves, namespace label
// changes, with and without an owner, every answer equals the one buildResponse builds afresh
// from the review's own decisions, and a rewritten pinned tag always names the pin in force.

const digest = (c: string): string => `sha256:${c.repeat(64)}`;

/** Identical answers as the API server reads them: deep-equal, and the same JSON. */
function sameAnswer(memoized: AdmissionResponse, fresh: AdmissionResponse): void {
  assert.deepStrictEqual(memoized, fresh);
  assert.equal(JSON.stringify(memoized), JSON.stringify(fresh));
}

/** The Pod's annotations: none, others, or an originals annotation from an earlier rewrite. */
const ANNOTATIONS: readonly (Record<string, unknown> | undefined)[] = [
  undefined,
  {},
  { team: "shop" },
  { [ORIGINAL_IMAGES_ANNOTATION]: '{"containers[app]":"busybox:1.35"}' },
  { [ORIGINAL_IMAGES_ANNOTATION]: "not json" },
];

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

/**
 * The world as deps: every answer a promise, or (atOnce) what a warm webhook has at hand at
 * once (the registry's cached answer, credentials, namespace labels), as the real deps give it.
 */
function worldDeps(world: World, atOnce = false): AdmissionDeps {
  const later = <T>(value: T): T | Promise<T> => (atOnce ? value : Promise.resolve(value));
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
      return later({
        digest: answer,
        mediaType: "application/vnd.oci.image.index.v1+json",
        size: 1,
        platforms: undefined,
        endpoint: "fake",
      });
    },
    keychainFor: () => later(() => undefined),
    recordPin: (_key, record) => Promise.resolve(record.digest),
    mutateTemplates: false,
    budgetMs: 1000,
    now: Date.now,
    namespaceLabels: (namespace) =>
      later(namespace === "team" && world.strictLabel ? { "digestpin.dev/strict": "true" } : {}),
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
  annotations: fc.nat({ max: ANNOTATIONS.length - 1 }),
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
  const annotations = ANNOTATIONS[review.annotations];
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
      metadata: {
        name: "web",
        ...(annotations !== undefined && { annotations: { ...annotations } }),
        ...(review.owned && { ownerReferences: [owner] }),
      },
      spec: { containers: review.containers.map((c) => ({ ...c })) },
    },
    oldObject: undefined,
    dryRun: review.dryRun,
  };
}

interface Counts {
  reviews: number;
  hits: number;
  /** Reviews the handler answered at once (not as a promise) given every answer at hand. */
  atOnce: number;
  /** The parts of every answer so far: an answer whose parts were served before is a hit. */
  readonly served: Set<unknown>;
}

/** Sends one review through the handler and checks its answer against a fresh one. */
async function checkReview(review: PodReview, world: World, counts: Counts): Promise<void> {
  const request = podRequest(review);
  // The handler answers through the process-wide memo, warm from earlier streams.
  const { response, judged, json } = await handleReview(review.endpoint, request, worldDeps(world));
  assert.ok(judged.length > 0);
  sameAnswer(response, buildResponse(request, judged));
  assert.equal(
    json ?? JSON.stringify(admissionReview(response)),
    JSON.stringify(admissionReview(response)),
  );
  // The same review with every answer at hand: the same answer, given at once when nothing
  // had to be waited for (a registry failure or a pin to record still waits).
  const atOnce = handleReview(review.endpoint, request, worldDeps(world, true));
  if (!(atOnce instanceof Promise)) counts.atOnce++;
  const now = await atOnce;
  sameAnswer(now.response, response);
  assert.equal(now.json, json);
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
  const counts: Counts = { reviews: 0, hits: 0, atOnce: 0, served: new Set() };
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
  const { reviews, hits, atOnce } = counts;
  t.true(hits > reviews / 5, `${hits} of ${reviews} answers from the memo`);
  t.true(atOnce > reviews / 5, `${atOnce} of ${reviews} answered at once`);
  reportRow(t, import.meta.url, {
    section: "inputs",
    subject:
      "response memo through the handler: policy edits, tag moves, namespace labels, owners; every answer awaited, or at hand",
    tried: `300 streams, ${reviews} reviews (fast-check)`,
    outcome: `every answer equal to buildResponse's on the review's decisions, and the same with answers at hand (${atOnce} answered at once); ${hits} served from the memo`,
  });
});
