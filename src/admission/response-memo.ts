// A bounded memo of buildResponse: identical warm reviews (only the uid differs) reuse the patch,
// originals annotation, audit annotations and warnings encoded for the first of them, and the
// answer's JSON but the uid.
import { annotationOf, annotationPlace } from "./patch.ts";
import {
  ORIGINAL_IMAGES_ANNOTATION,
  responseParts,
  type Judged,
  type ResponseParts,
} from "./respond.ts";
import { encodedReview, type AdmissionRequest, type AdmissionResponse } from "./review.ts";

interface Entry {
  /** Every value responseParts reads (inputsOf). */
  readonly inputs: readonly unknown[];
  readonly parts: ResponseParts;
  /** JSON.stringify(parts). */
  readonly partsJson: string;
}

/**
 * An answer, and its AdmissionReview as JSON (what JSON.stringify(admissionReview()) gives)
 * when the memo keeps its parts.
 */
export interface Answered {
  readonly response: AdmissionResponse;
  readonly json?: string;
}

/** Reviews whose inputs together are longer than this are answered fresh and never kept. */
const MAX_CHARS = 4096;

/**
 * buildResponse, memoized. An entry is served only when every value buildResponse reads is
 * strictly equal (===) to the one it was built from: the object's annotation place and
 * originals annotation, and per image its place, pointer and image as written, and the whole
 * decision as buildResponse reads it (action, reason, image, message, warning, audit,
 * wouldDeny). A changed pin, policy, registry answer, namespace setting or owner reference
 * changes a decision, so it is a different entry; no generation is needed. buildResponse is a
 * pure function of these, so a served answer is the one it would build, uid aside.
 *
 * Entries are found through a bucket keyed by the images (a hint only, never trusted), at most
 * `perBucket` per bucket, newest first, and at most `maxBuckets` buckets, the oldest dropped
 * first; a hit reads no clock and moves nothing. Memory stays flat at maxBuckets × perBucket
 * entries of at most MAX_CHARS of inputs each (and their answers, of the same order): the 512
 * entries of 3-container Pods held 0.6 MiB of heap, 1 MiB with images near MAX_CHARS.
 */
export class ResponseMemo {
  private readonly buckets = new Map<string, Entry[]>();

  constructor(
    private readonly maxBuckets = 128,
    private readonly perBucket = 4,
  ) {}

  answer(request: AdmissionRequest, judged: readonly Judged[]): Answered {
    const inputs = inputsOf(request.object, judged);
    let bucketKey = "";
    for (const { slot } of judged) bucketKey += slot.image + "\n";
    const bucket = this.buckets.get(bucketKey);
    const found = bucket?.find((entry) => sameInputs(entry.inputs, inputs));
    if (found !== undefined) {
      return {
        response: { uid: request.uid, ...found.parts },
        json: encodedReview(request.uid, found.partsJson),
      };
    }
    const parts = frozen(responseParts(request.object, judged));
    const response = { uid: request.uid, ...parts };
    if (charsOf(inputs) > MAX_CHARS) return { response };
    const partsJson = JSON.stringify(parts);
    this.keep(bucketKey, bucket, { inputs, parts, partsJson });
    return { response, json: encodedReview(request.uid, partsJson) };
  }

  private keep(bucketKey: string, bucket: Entry[] | undefined, entry: Entry): void {
    if (bucket !== undefined) {
      bucket.unshift(entry);
      if (bucket.length > this.perBucket) bucket.pop();
      return;
    }
    if (this.buckets.size >= this.maxBuckets) {
      const oldest = this.buckets.keys().next();
      if (oldest.done !== true) this.buckets.delete(oldest.value);
    }
    this.buckets.set(bucketKey, [entry]);
  }
}

/** The memo the handler answers through (its answers do not depend on who shares it). */
export const RESPONSES = new ResponseMemo();

/** Every value responseParts reads, in a fixed order; keep in step with respond.ts. */
function inputsOf(object: unknown, judged: readonly Judged[]): unknown[] {
  const inputs: unknown[] = [
    annotationPlace(object),
    annotationOf(object, ORIGINAL_IMAGES_ANNOTATION),
  ];
  for (const { slot, decision } of judged) {
    inputs.push(
      slot.place,
      slot.pointer,
      slot.image,
      decision.action,
      decision.reason,
      decision.action === "mutate" ? decision.image : undefined,
      decision.message,
      decision.warning,
      decision.audit,
      decision.wouldDeny,
    );
  }
  return inputs;
}

function sameInputs(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function charsOf(inputs: readonly unknown[]): number {
  let chars = 0;
  for (const value of inputs) if (typeof value === "string") chars += value.length;
  return chars;
}

/** The parts frozen all through: every later answer shares them. */
function frozen(parts: ResponseParts): ResponseParts {
  if (parts.status !== undefined) Object.freeze(parts.status);
  if (parts.warnings !== undefined) Object.freeze(parts.warnings);
  if (parts.auditAnnotations !== undefined) Object.freeze(parts.auditAnnotations);
  return Object.freeze(parts);
}
