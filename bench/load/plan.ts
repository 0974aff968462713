import { readFileSync } from "node:fs";

/**
 * Which body each request of a load run sends. Bodies are prepared by the benchmark (so the
 * load process only reads and sends them): the same review every time, a sequence of reviews
 * each sent once (unique tags), or a mix where every `newEvery`-th request is the next unused
 * review and the others are the cached one.
 */
export type BodyPlan =
  | { readonly kind: "same"; readonly bodyFile: string }
  | { readonly kind: "sequence"; readonly bodiesFile: string }
  | {
      readonly kind: "mix";
      readonly bodyFile: string;
      readonly bodiesFile: string;
      readonly newEvery: number;
    };

/** A function giving the next body, and how many requests the plan has (Infinity: unbounded). */
export function bodySource(plan: BodyPlan): { next: () => string; limit: number } {
  if (plan.kind === "same") {
    const body = readFileSync(plan.bodyFile, "utf8");
    return { next: () => body, limit: Infinity };
  }
  const bodies = readFileSync(plan.bodiesFile, "utf8")
    .split("\n")
    .filter((line) => line !== "");
  let used = 0;
  const fresh = (): string => {
    const body = bodies[used++];
    if (body === undefined) throw new Error(`the plan has only ${bodies.length} unique bodies`);
    return body;
  };
  if (plan.kind === "sequence") return { next: fresh, limit: bodies.length };
  const cached = readFileSync(plan.bodyFile, "utf8");
  let sent = 0;
  return {
    next: () => (++sent % plan.newEvery === 0 ? fresh() : cached),
    limit: bodies.length * plan.newEvery,
  };
}
