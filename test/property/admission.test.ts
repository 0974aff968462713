import assert from "node:assert/strict";
import test from "ava";
import fc from "fast-check";
import {
  answerReview,
  type EndpointDeps,
  type HttpAnswer,
} from "../../src/webhook/review-answer.ts";
import type { ReviewEndpoint } from "../../src/admission/roles.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { Metrics } from "../../src/observability/metrics.ts";
import { reportRow } from "../helpers/reliability.ts";
import {
  admissible,
  changedPointers,
  corrupt,
  imagesAt,
  POD_KINDS,
  validReview,
  worldDeps,
} from "./admission-world.ts";
import { applyPatch } from "./json-patch.ts";

// The AdmissionReview handler (answerReview, what /mutate and /validate run) on arbitrary input:
// never throws or hangs; a non-review is a 400 with a message; a review always gets a
// well-formed review back with its uid, never an internal error; and what it admits is only
// ever pinned content: no unpinned, drifted or unknown digest gets through either endpoint.

const deps: EndpointDeps = { ...worldDeps(), metrics: new Metrics(), logger: silentLogger() };
const HANG_MS = 2000;

async function answer(
  endpoint: ReviewEndpoint,
  body: unknown,
): Promise<{ answer: HttpAnswer; ms: number }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer within ${HANG_MS} ms`));
    }, HANG_MS);
  });
  try {
    const result = await Promise.race([answerReview(endpoint, body, deps), hang]);
    return { answer: result, ms: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

/** The shape the API server requires back, with the request's uid; returns the response. */
function wellFormedReview(result: HttpAnswer, uid: string): Record<string, any> {
  assert.equal(result.status, 200);
  // What the server sends is JSON: the answer survives serialization unchanged.
  const body = JSON.parse(JSON.stringify(result.body));
  assert.equal(body.apiVersion, "admission.k8s.io/v1");
  assert.equal(body.kind, "AdmissionReview");
  const response: Record<string, any> = body.response;
  assert.equal(response.uid, uid);
  assert.equal(typeof response.allowed, "boolean");
  if (!response.allowed) {
    assert.equal(typeof response.status?.message, "string");
    assert.ok(response.status.message.length > 0, "a denial without a message");
    assert.notEqual(response.status.code, 500, `internal error: ${response.status.message}`);
  }
  for (const warning of response.warnings ?? []) {
    assert.ok(typeof warning === "string" && warning.length <= 120, `warning ${warning}`);
  }
  return response;
}

function badRequest(result: HttpAnswer): void {
  assert.equal(result.status, 400);
  const error = (result.body as { error?: unknown }).error;
  assert.ok(typeof error === "string" && error.length > 0, "a 400 without a message");
}

/** A review the parser must accept: object with apiVersion, kind, request.uid/kind/resource/operation. */
function isReview(body: unknown): body is { request: { uid: string } } {
  const review = body as any;
  const request = review?.request;
  return (
    typeof review === "object" &&
    review !== null &&
    !Array.isArray(review) &&
    review.apiVersion === "admission.k8s.io/v1" &&
    review.kind === "AdmissionReview" &&
    typeof request === "object" &&
    request !== null &&
    !Array.isArray(request) &&
    typeof request.uid === "string" &&
    request.uid !== "" &&
    typeof request.kind?.kind === "string" &&
    typeof request.resource?.resource === "string" &&
    ["CREATE", "UPDATE", "DELETE", "CONNECT"].includes(request.operation)
  );
}

interface Tally {
  cases: number;
  reviews: number;
  rejected: number;
  allowed: number;
  denied: number;
  patched: number;
  imagesChecked: number;
  slowest: number;
}
const tally = (): Tally => ({
  cases: 0,
  reviews: 0,
  rejected: 0,
  allowed: 0,
  denied: 0,
  patched: 0,
  imagesChecked: 0,
  slowest: 0,
});

async function checkBody(endpoint: ReviewEndpoint, body: unknown, counts: Tally): Promise<void> {
  const { answer: result, ms } = await answer(endpoint, body);
  counts.cases++;
  counts.slowest = Math.max(counts.slowest, ms);
  if (isReview(body)) {
    const response = wellFormedReview(result, body.request.uid);
    counts.reviews++;
    if (response.allowed) counts.allowed++;
    else counts.denied++;
  } else {
    badRequest(result);
    counts.rejected++;
  }
}

const outcome = (c: Tally) =>
  `0 throws, 0 hangs, 0 internal errors; ${c.reviews} reviews answered with their uid (${c.allowed} allowed, ${c.denied} denied${c.patched > 0 ? `, ${c.patched} patched` : ""}), ${c.rejected} non-reviews 400 with a message${c.imagesChecked > 0 ? `; ${c.imagesChecked} admitted images checked against the pins: 0 unpinned/drifted` : ""}; slowest ${c.slowest.toFixed(1)} ms`;

test("arbitrary JSON bodies: a 400 with a message, or a review with the uid", async (t) => {
  const counts = tally();
  const bodies = fc.oneof(
    fc.jsonValue(),
    fc.anything(),
    fc.record({
      apiVersion: fc.oneof(fc.constant("admission.k8s.io/v1"), fc.jsonValue()),
      kind: fc.oneof(fc.constant("AdmissionReview"), fc.jsonValue()),
      request: fc.oneof(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue())),
    }),
  );
  await t.notThrowsAsync(
    fc.assert(
      fc.asyncProperty(
        bodies,
        fc.constantFrom<ReviewEndpoint>("mutate", "validate"),
        async (body, endpoint) => {
          await checkBody(endpoint, body, counts);
        },
      ),
      { numRuns: 3000 },
    ),
  );
  reportRow(t, import.meta.url, {
    section: "inputs",
    subject: "AdmissionReview handler: arbitrary JSON bodies",
    tried: `${counts.cases} cases (fast-check)`,
    outcome: outcome(counts),
  });
});

test("valid reviews with one field corrupted: a 400 with a message, or a review with the uid", async (t) => {
  const counts = tally();
  await t.notThrowsAsync(
    fc.assert(
      fc.asyncProperty(
        validReview,
        fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
        fc.oneof(fc.jsonValue(), fc.constant(undefined)),
        fc.constantFrom<ReviewEndpoint>("mutate", "validate"),
        async (review, path, replacement, endpoint) => {
          const body = corrupt(review.body, path, replacement);
          await checkBody(endpoint, JSON.parse(JSON.stringify(body ?? null)), counts);
        },
      ),
      { numRuns: 2000 },
    ),
  );
  reportRow(t, import.meta.url, {
    section: "inputs",
    subject: "AdmissionReview handler: valid reviews with a field corrupted",
    tried: `${counts.cases} cases (fast-check)`,
    outcome: outcome(counts),
  });
});

test("arbitrary pod specs in valid reviews: the uid back, and only pinned content admitted", async (t) => {
  const counts = tally();
  await fc.assert(
    fc.asyncProperty(
      validReview,
      fc.constantFrom<ReviewEndpoint>("mutate", "validate"),
      async (review, endpoint) => {
        const { body, kind, namespace } = review;
        const { answer: result, ms } = await answer(endpoint, body);
        counts.cases++;
        counts.reviews++;
        counts.slowest = Math.max(counts.slowest, ms);
        const response = wellFormedReview(result, body.request.uid as string);
        const operation = body.request.operation as string;
        if (!response.allowed) {
          counts.denied++;
          return;
        }
        counts.allowed++;
        const object = body.request.object;
        const judged =
          POD_KINDS.includes(kind) && (operation === "CREATE" || operation === "UPDATE");
        if (response.patch !== undefined) {
          counts.patched++;
          assert.equal(endpoint, "mutate", "only /mutate patches");
          assert.equal(response.patchType, "JSONPatch");
        }
        const final =
          response.patch === undefined
            ? object
            : applyPatch(
                object,
                JSON.parse(Buffer.from(response.patch, "base64").toString("utf8")),
              );
        // A Pod leaves /mutate (and passes /validate) with digests only; a workload template is
        // left as written by /mutate and judged by /validate, where a pinned tag may pass.
        const role =
          kind === "Pod" ? "final" : endpoint === "validate" ? "template" : ("untouched" as const);
        if (!judged || role === "untouched") return;
        const images = imagesAt(kind, final);
        for (const pointer of changedPointers(kind, object, body.request.oldObject)) {
          const image = images.get(pointer);
          assert.ok(image !== undefined, `${pointer} lost by the patch`);
          assert.ok(
            admissible(image, namespace, role === "template"),
            `${endpoint} admitted ${JSON.stringify(image)} at ${pointer} in namespace ${JSON.stringify(namespace)}`,
          );
          counts.imagesChecked++;
        }
      },
    ),
    { numRuns: 4000 },
  );
  t.true(counts.imagesChecked > 100, `only ${counts.imagesChecked} admitted images checked`);
  reportRow(t, import.meta.url, {
    section: "inputs",
    subject:
      "AdmissionReview handler: arbitrary pod specs in valid reviews (9 pod-carrying kinds and odd ones)",
    tried: `${counts.cases} cases (fast-check)`,
    outcome: outcome(counts),
  });
});

// Found by the properties above (fixed in src/admission/images.ts and patch.ts): a kind named
// like an Object.prototype member was an internal error, and metadata that is not a map made
// the handler throw or emit a patch that cannot apply. The API server never sends either, but
// the handler must not depend on that.
test("regressions: prototype-named kinds and metadata that is not a map", async (t) => {
  for (const kind of ["constructor", "hasOwnProperty", "__proto__", "toString"]) {
    const { answer: result } = await answer("mutate", {
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      request: {
        uid: "u1",
        kind: { kind },
        resource: { resource: "x" },
        operation: "CREATE",
        object: { spec: { containers: [{ image: "nginx:1" }] } },
      },
    });
    t.like(wellFormedReview(result, "u1"), { allowed: true }, kind);
  }
  for (const metadata of [null, 5, "x", [], { annotations: null }, { annotations: [] }]) {
    const object = { metadata, spec: { containers: [{ name: "a", image: "busybox:1.36" }] } };
    const { answer: result } = await answer("mutate", {
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      request: {
        uid: "u2",
        kind: { kind: "Pod" },
        resource: { resource: "pods" },
        operation: "CREATE",
        namespace: "team",
        object,
      },
    });
    const response = wellFormedReview(result, "u2");
    t.true(response.allowed, JSON.stringify(metadata));
    const patched = applyPatch(
      object,
      JSON.parse(Buffer.from(response.patch, "base64").toString("utf8")),
    ) as any;
    t.is(patched.spec.containers[0].image, `busybox:1.36@sha256:${"d".repeat(64)}`);
    t.is(
      patched.metadata.annotations["digestpin.dev/original-images"],
      '{"containers[a]":"busybox:1.36"}',
    );
  }
});
