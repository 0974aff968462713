import type { ParseResult } from "../../reference/index.ts";
import type { DecideResult, Decision, DecisionContext } from "./decision.ts";
import type { Policy } from "./policy.ts";

/** Results kept per policy generation before its memo starts afresh. */
const MAX_ENTRIES = 8192;

/** The first call's result (a decision, or the lookup it needs) and the parse it came from. */
export interface FirstResult {
  readonly parsed: ParseResult;
  readonly result: DecideResult;
}

/**
 * decide()'s results, kept per policy generation. decide() is a pure function of the image,
 * the context's namespace, dryRun and controlled, the policy, and the digest the registry
 * serves; a Policy is immutable (an edit is a new generation, a new object), so for one Policy
 * the same inputs give the same result, and a warm review reads it instead of deciding again
 * (parsing the reference, matching exemptions and registries, finding the pin, writing the
 * messages). A registry failure is never kept: its text is the failure's own. Results are
 * frozen, as they are shared; a generation no longer in force is dropped with its results.
 */
export class DecisionMemo {
  readonly #byPolicy = new WeakMap<Policy, Map<string, FirstResult | Decision>>();

  /** The first call's result for `image` in `context`, computed once per generation. */
  first(
    image: string,
    context: DecisionContext,
    policy: Policy,
    compute: () => FirstResult,
  ): { readonly key: string; readonly first: FirstResult } {
    const key = `${context.namespace}\n${context.dryRun ? "d" : "-"}${context.controlled === true ? "c" : "-"}\n${image}`;
    const entries = this.#entries(policy);
    let first = entries.get(key) as FirstResult | undefined;
    if (first === undefined) {
      first = Object.freeze(compute());
      frozen(first.result);
      entries.set(key, first);
    }
    return { key, first };
  }

  /** The decision once the registry served `digest`, computed once per generation. */
  second(key: string, digest: string, policy: Policy, compute: () => Decision): Decision {
    const entries = this.#entries(policy);
    const withDigest = `${key}\n${digest}`;
    let decision = entries.get(withDigest) as Decision | undefined;
    if (decision === undefined) {
      decision = frozen(compute());
      entries.set(withDigest, decision);
    }
    return decision;
  }

  #entries(policy: Policy): Map<string, FirstResult | Decision> {
    let entries = this.#byPolicy.get(policy);
    if (entries === undefined || entries.size >= MAX_ENTRIES) {
      entries = new Map();
      this.#byPolicy.set(policy, entries);
    }
    return entries;
  }
}

/** A result frozen with what it holds (the pin record, the drift, the pin move). */
function frozen<T extends DecideResult>(result: T): T {
  for (const value of Object.values(result))
    if (typeof value === "object" && value !== null && !Object.isFrozen(value))
      Object.freeze(value);
  return Object.freeze(result);
}
