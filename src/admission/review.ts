/** The parts of an admission.k8s.io/v1 AdmissionRequest digestpin reads. */
export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: { readonly group: string; readonly version: string; readonly kind: string };
  readonly resource: {
    readonly group: string;
    readonly version: string;
    readonly resource: string;
  };
  readonly subResource: string | undefined;
  readonly name: string | undefined;
  readonly namespace: string | undefined;
  readonly operation: "CREATE" | "UPDATE" | "DELETE" | "CONNECT";
  readonly username: string | undefined;
  readonly object: unknown;
  readonly oldObject: unknown;
  readonly dryRun: boolean;
}

/** One cause of a refusal (metav1.StatusCause): `kubectl edit` lists them in the file it reopens. */
export interface StatusCause {
  readonly reason: string;
  readonly message: string;
  /** The field at fault, as Kubernetes names fields: `data[policy.yaml]`. */
  readonly field?: string;
}

export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: {
    readonly code: number;
    readonly reason: string;
    readonly message: string;
    readonly details?: {
      readonly name?: string;
      readonly kind?: string;
      readonly causes?: readonly StatusCause[];
    };
  };
  readonly patch?: string;
  readonly patchType?: "JSONPatch";
  readonly warnings?: readonly string[];
  readonly auditAnnotations?: Readonly<Record<string, string>>;
}

export type ReviewParse =
  | { readonly ok: true; readonly request: AdmissionRequest }
  | { readonly ok: false; readonly error: string; readonly uid?: string };

const OPERATIONS = new Set(["CREATE", "UPDATE", "DELETE", "CONNECT"]);

/** Reads a request body as an admission.k8s.io/v1 AdmissionReview, saying what is wrong. */
export function parseAdmissionReview(body: unknown): ReviewParse {
  const review = asObject(body);
  if (review === undefined) return { ok: false, error: "the body is not a JSON object" };
  if (review.apiVersion !== "admission.k8s.io/v1" || review.kind !== "AdmissionReview") {
    return {
      ok: false,
      error: 'expected apiVersion "admission.k8s.io/v1" and kind "AdmissionReview"',
    };
  }
  const request = asObject(review.request);
  if (request === undefined) return { ok: false, error: "the AdmissionReview has no request" };
  const uid = request.uid;
  if (typeof uid !== "string" || uid === "") return { ok: false, error: "request.uid is missing" };
  const kind = asObject(request.kind);
  const resource = asObject(request.resource);
  const operation = request.operation;
  if (typeof kind?.kind !== "string" || typeof resource?.resource !== "string") {
    return { ok: false, uid, error: "request.kind and request.resource are required" };
  }
  if (typeof operation !== "string" || !OPERATIONS.has(operation)) {
    return {
      ok: false,
      uid,
      error: `request.operation ${JSON.stringify(operation)} is not an admission operation`,
    };
  }
  return {
    ok: true,
    request: {
      uid,
      kind: { group: str(kind.group) ?? "", version: str(kind.version) ?? "", kind: kind.kind },
      resource: {
        group: str(resource.group) ?? "",
        version: str(resource.version) ?? "",
        resource: resource.resource,
      },
      subResource: str(request.subResource),
      name: str(request.name),
      namespace: str(request.namespace),
      operation: operation as AdmissionRequest["operation"],
      username: str(asObject(request.userInfo)?.username),
      object: request.object ?? undefined,
      oldObject: request.oldObject ?? undefined,
      dryRun: request.dryRun === true,
    },
  };
}

/** The AdmissionReview the API server expects back. */
export function admissionReview(response: AdmissionResponse): object {
  return { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response };
}

/**
 * JSON.stringify(admissionReview({ uid, ...parts })) from `partsJson`, JSON.stringify(parts)
 * made once: the answers to identical reviews differ in their uid only.
 */
export function encodedReview(uid: string, partsJson: string): string {
  const rest = partsJson === "{}" ? "}" : `,${partsJson.slice(1)}`;
  return `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":${JSON.stringify(uid)}${rest}}`;
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}
