import {
  checkPolicyDocument,
  configMapSource,
  formatIssue,
  PINS_KEY,
  PINS_LABEL,
  POLICY_KEY,
} from "../policy/index.ts";
import type { AdmissionRequest, AdmissionResponse, StatusCause } from "./review.ts";

/** Where the policy lives: the policy ConfigMap by name, and the labelled pins ConfigMaps, in one namespace. */
export interface PolicyLocation {
  readonly namespace: string;
  readonly policy: string;
}

/**
 * Refuses an edit that would make a policy or pins ConfigMap invalid, with every issue and its
 * line, so `kubectl apply` and `kubectl edit` show what to fix. Other ConfigMaps pass.
 */
export function reviewPolicyConfigMap(
  request: AdmissionRequest,
  where: PolicyLocation,
): AdmissionResponse {
  const allowed = { uid: request.uid, allowed: true };
  if (request.operation !== "CREATE" && request.operation !== "UPDATE") return allowed;
  const configMap = request.object as
    | {
        metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
        data?: Record<string, string>;
      }
    | undefined;
  const name = configMap?.metadata?.name ?? request.name ?? "";
  if ((request.namespace ?? configMap?.metadata?.namespace) !== where.namespace) return allowed;
  const isPolicy = name === where.policy;
  const isPins = configMap?.metadata?.labels?.[PINS_LABEL] === "true";
  if (!isPolicy && !isPins) return allowed;
  const key = isPolicy ? POLICY_KEY : PINS_KEY;
  const value: unknown = configMap?.data?.[key];
  // The API server only sends strings here; anything else is treated as a missing key.
  const text = typeof value === "string" ? value : undefined;
  const source = `${configMapSource(where.namespace, name)} ${key}`;
  const field = `data[${key}]`;
  if (text === undefined) {
    const missing = `${source}: the ConfigMap has no "${key}" key; digestpin reads its ${isPolicy ? "policy" : "pins"} from it`;
    return deny(request.uid, name, missing, [
      { reason: "FieldValueRequired", message: missing, field },
    ]);
  }
  const result = checkPolicyDocument(text, source, { expect: isPolicy ? "Policy" : "Pins" });
  if (result.ok) return allowed;
  const issues = result.issues.map(formatIssue);
  return deny(
    request.uid,
    name,
    `invalid digestpin ${isPolicy ? "policy" : "pins"}:\n${issues.join("\n")}`,
    issues.map((message) => ({ reason: "FieldValueInvalid", message, field })),
  );
}

/**
 * A 422 Invalid with one cause per issue. kubectl prints the causes of an Invalid status (not
 * its message), and `kubectl edit` lists them at the top of the file it reopens: without
 * causes it said only that the ConfigMap "was not valid". Other clients get the message.
 */
function deny(
  uid: string,
  name: string,
  message: string,
  causes: readonly StatusCause[],
): AdmissionResponse {
  return {
    uid,
    allowed: false,
    status: {
      code: 422,
      reason: "Invalid",
      message,
      details: { name, kind: "configmaps", causes },
    },
  };
}
