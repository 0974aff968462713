import type { Decision } from "../policy/index.ts";
import type { ImageSlot } from "./images.ts";
import { annotationOf, encodePatch, setAnnotation, type PatchOperation } from "./patch.ts";
import type { AdmissionRequest, AdmissionResponse } from "./review.ts";

/** One image of a review and what was decided about it. */
export interface Judged {
  readonly slot: ImageSlot;
  readonly decision: Decision;
}

/** Where the images as written before digestpin rewrote them are kept, as JSON. */
export const ORIGINAL_IMAGES_ANNOTATION = "digestpin.dev/original-images";

/**
 * The AdmissionResponse for judged images: denied when any image is (one line per image:
 * where, what, why, how to fix), otherwise admitted with a JSON patch for the rewritten images,
 * the warnings, and audit annotations recording every decision.
 */
export function buildResponse(
  request: AdmissionRequest,
  judged: readonly Judged[],
): AdmissionResponse {
  return { uid: request.uid, ...responseParts(request.object, judged) };
}

/** A response without its uid: all that identical reviews share. */
export type ResponseParts = Omit<AdmissionResponse, "uid">;

/**
 * buildResponse's answer but the uid, from the request's object and the judged images. It
 * reads only what response-memo.ts's inputsOf lists: keep the two in step.
 */
export function responseParts(object: unknown, judged: readonly Judged[]): ResponseParts {
  const warnings = [
    ...new Set(
      judged.flatMap((j) => (j.decision.warning === undefined ? [] : [j.decision.warning])),
    ),
  ];
  const auditAnnotations = audit(judged);
  const denied = judged.filter((j) => j.decision.action === "deny");
  if (denied.length > 0) {
    const message = denied.map((j) => `${j.slot.place}: ${j.decision.message}`).join("\n");
    return {
      allowed: false,
      status: { code: 403, reason: "Forbidden", message },
      ...(warnings.length > 0 && { warnings }),
      auditAnnotations,
    };
  }
  const patch = patchFor(object, judged);
  return {
    allowed: true,
    ...(patch.length > 0 && { patch: encodePatch(patch), patchType: "JSONPatch" as const }),
    ...(warnings.length > 0 && { warnings }),
    auditAnnotations,
  };
}

function patchFor(object: unknown, judged: readonly Judged[]): PatchOperation[] {
  const rewrites = judged.flatMap((j) =>
    j.decision.action === "mutate" && j.decision.image !== j.slot.image
      ? [{ slot: j.slot, image: j.decision.image }]
      : [],
  );
  if (rewrites.length === 0) return [];
  const originals = parseOriginals(annotationOf(object, ORIGINAL_IMAGES_ANNOTATION));
  for (const { slot } of rewrites) originals[slot.place] = slot.image;
  return [
    ...rewrites.map(({ slot, image }) => ({
      op: "replace" as const,
      path: slot.pointer,
      value: image,
    })),
    ...setAnnotation(object, ORIGINAL_IMAGES_ANNOTATION, JSON.stringify(originals)),
  ];
}

function parseOriginals(value: string | undefined): Record<string, string> {
  if (value === undefined) return {};
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, string>)
      : {};
  } catch {
    return {};
  }
}

/** `decisions`: place=action/reason for every image; `would-deny`: what warn/audit mode let in. */
function audit(judged: readonly Judged[]): Record<string, string> {
  const annotations: Record<string, string> = {
    decisions: judged
      .map((j) => `${j.slot.place}=${j.decision.action}/${j.decision.reason}`)
      .join(","),
  };
  const wouldDeny = judged.filter((j) => j.decision.wouldDeny && j.decision.action !== "deny");
  if (wouldDeny.length > 0) {
    annotations["would-deny"] = wouldDeny
      .map((j) => `${j.slot.place}: ${j.decision.audit ?? j.decision.message}`)
      .join("\n");
  }
  return annotations;
}
