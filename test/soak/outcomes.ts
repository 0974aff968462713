import type { Outcome } from "./reviews.ts";

/** What may be decided about one image: the decision and, when admitted, the image after it. */
export interface ImageOption {
  readonly decision: string;
  /** The image after the review (for allow without a patch: the image as written). */
  readonly image: string;
  /** True when this option means the registry could not be asked. */
  readonly degraded?: boolean;
}

/**
 * Every acceptable outcome of a review of containers `c0, c1, …` from the options of each image
 * (their product): admitted when no image is denied, its images then as the options say.
 * Labelled `healthy` unless some option is degraded.
 */
export function outcomesOf(
  perImage: readonly (readonly ImageOption[])[],
  labels: { healthy: string; degraded: string } = {
    healthy: "healthy",
    degraded: "registry down",
  },
): Outcome[] {
  let rows: ImageOption[][] = [[]];
  for (const options of perImage) rows = rows.flatMap((row) => options.map((o) => [...row, o]));
  return rows.map((row) => {
    const allowed = row.every((o) => !o.decision.startsWith("deny/"));
    return {
      label: row.some((o) => o.degraded === true) ? labels.degraded : labels.healthy,
      allowed,
      decisions: row.map((o, i) => `containers[c${i}]=${o.decision}`).join(","),
      ...(allowed && {
        images: Object.fromEntries(row.map((o, i) => [`/spec/containers/${i}/image`, o.image])),
      }),
    };
  });
}
