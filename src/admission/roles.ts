import { POD_CARRYING_KINDS } from "./images.ts";

export type ReviewEndpoint = "mutate" | "validate";

/**
 * What an endpoint does with an object's images:
 * - `rewrite`: resolve tags and patch them to digests (Pods; templates when asked to);
 * - `require-digests`: the final object must hold only digest-form, allow-listed images —
 *   the validating check after every mutating webhook ran;
 * - `check-template`: judge a workload template as written and deny what would be denied,
 *   without changing it (so `kubectl apply --dry-run=server` reports drift for a Deployment);
 * - `none`.
 */
export type Role = "rewrite" | "require-digests" | "check-template" | "none";

export function roleOf(endpoint: ReviewEndpoint, kind: string, mutateTemplates: boolean): Role {
  if (!POD_CARRYING_KINDS.includes(kind)) return "none";
  const rewritten = kind === "Pod" || mutateTemplates;
  if (endpoint === "mutate") return rewritten ? "rewrite" : "none";
  return rewritten ? "require-digests" : "check-template";
}
