import { applyPatch } from "../property/json-patch.ts";

/**
 * The reviews a soak run sends and what may come back for each: a response is right when it
 * matches one of the case's outcomes exactly (decision per image, patched images), and it is
 * counted under that outcome's label; anything else is a wrong admission or a wrong denial.
 */
export interface Outcome {
  /** What this outcome means in the report: `pinned`, `use-pin`, `policy A`, … */
  readonly label: string;
  readonly allowed: boolean;
  /** The audit annotation `decisions` exactly: `containers[a]=mutate/pinned,…`. */
  readonly decisions: string;
  /** Image at each JSON pointer of the object after the patch (allowed outcomes). */
  readonly images?: Readonly<Record<string, string>>;
}

export interface ReviewCase {
  readonly name: string;
  readonly path: "/mutate" | "/validate";
  /** An AdmissionReview; its request.uid is replaced per request. */
  readonly review: { readonly request: Record<string, unknown> } & Record<string, unknown>;
  readonly outcomes: readonly Outcome[];
}

export type Verdict =
  { readonly ok: true; readonly label: string } | { readonly ok: false; readonly why: string };

/** Checks one response body (already parsed) against the case. */
export function judgeResponse(c: ReviewCase, uid: string, body: unknown): Verdict {
  const response = (body as { response?: Record<string, any> } | undefined)?.response;
  if (response === undefined) return { ok: false, why: "no response in the review" };
  if (response.uid !== uid) return { ok: false, why: `uid ${String(response.uid)} for ${uid}` };
  const decisions = String(response.auditAnnotations?.decisions ?? "");
  let patched: unknown = c.review.request.object;
  if (response.patch !== undefined) {
    try {
      const operations: unknown = JSON.parse(
        Buffer.from(String(response.patch), "base64").toString("utf8"),
      );
      patched = applyPatch(patched, operations);
    } catch (error) {
      return { ok: false, why: `patch does not apply: ${String(error)}` };
    }
  }
  for (const outcome of c.outcomes) {
    if (outcome.allowed !== response.allowed || outcome.decisions !== decisions) continue;
    if (outcome.allowed && outcome.images !== undefined) {
      const mismatch = Object.entries(outcome.images).find(
        ([pointer, image]) => valueAt(patched, pointer) !== image,
      );
      if (mismatch !== undefined) continue;
    }
    return { ok: true, label: outcome.label };
  }
  const images = Object.keys(c.outcomes[0]?.images ?? {}).map(
    (pointer) => `${pointer}=${String(valueAt(patched, pointer))}`,
  );
  return {
    ok: false,
    why: `${c.name}: allowed=${String(response.allowed)} decisions=${decisions} ${images.join(" ")} ${String(response.status?.message ?? "").slice(0, 300)}`,
  };
}

function valueAt(document: unknown, pointer: string): unknown {
  let value = document;
  for (const segment of pointer.slice(1).split("/")) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[segment.replaceAll("~1", "/").replaceAll("~0", "~")];
  }
  return value;
}

/** An AdmissionReview of a Pod CREATE with `containers` (name → image) in `namespace`. */
export function podReview(
  containers: Readonly<Record<string, string>>,
  namespace = "team",
): ReviewCase["review"] {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "",
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      name: "soak",
      namespace,
      operation: "CREATE",
      userInfo: { username: "system:serviceaccount:kube-system:replicaset-controller" },
      object: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "soak", namespace },
        spec: {
          containers: Object.entries(containers).map(([name, image]) => ({ name, image })),
        },
      },
      dryRun: false,
    },
  };
}
