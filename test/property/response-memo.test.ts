import assert from "node:assert/strict";
import test from "ava";
import fc from "fast-check";
import {
  buildResponse,
  ORIGINAL_IMAGES_ANNOTATION,
  type Judged,
} from "../../src/admission/respond.ts";
import { ResponseMemo } from "../../src/admission/response-memo.ts";
import {
  admissionReview,
  type AdmissionRequest,
  type AdmissionResponse,
} from "../../src/admission/review.ts";
import { DECISION_REASONS, type Decision } from "../../src/policy/index.ts";
import { reportRow } from "../helpers/reliability.ts";

// The response memo (src/admission/response-memo.ts) never answers other than buildResponse
// would: over random streams of reviews that repeat, and that change one thing between two
// reviews (a pin, an action, a warning, an annotation…), every memoized answer is deep-equal,
// and equal as JSON, to a fresh one, including once the memo is full and drops entries.
// Through the handler, with policy edits and tag moves: response-memo-handler.test.ts.

const digest = (c: string): string => `sha256:${c.repeat(64)}`;

/** Identical answers as the API server reads them: deep-equal, and the same JSON. */
function sameAnswer(memoized: AdmissionResponse, fresh: AdmissionResponse): void {
  assert.deepStrictEqual(memoized, fresh);
  assert.equal(JSON.stringify(memoized), JSON.stringify(fresh));
}

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

/** A uid as the API server sends it, or any string (quotes, backslashes, lone surrogates). */
const UID = fc.oneof(fc.uuid(), fc.string({ unit: "binary", minLength: 1 }));

const reviewSpec: fc.Arbitrary<ReviewSpec> = fc.record({
  uid: UID,
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
    value: UID,
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
        const { response: answer, json } = memo.answer(request, judged);
        const { response: tinyAnswer, json: tinyJson } = tiny.answer(request, judged);
        sameAnswer(answer, fresh);
        sameAnswer(tinyAnswer, fresh);
        // Its JSON, the uid put into the parts' JSON made once, is the fresh answer's byte for byte.
        const freshJson = JSON.stringify(admissionReview(fresh));
        assert.equal(json ?? freshJson, freshJson);
        assert.equal(tinyJson ?? freshJson, freshJson);
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
