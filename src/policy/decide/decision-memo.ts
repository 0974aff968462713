import type { ParseResult } from "../../reference/index.ts";
import type { DecideResult, Decision, DecisionContext } from "./decision.ts";
import type { Policy } from "./policy.ts";

/** Images × contexts kept per policy generation before its memo starts afresh. */
const MAX_ENTRIES = 4096;
/** Digests kept per image: a tag serves one at a time, two while it moves. */
const MAX_DIGESTS = 4;

/** The first call's result (a decision, or the lookup it needs) and the parse it came from. */
export interface FirstResult {
  readonly parsed: ParseResult;
  readonly result: DecideResult;
}

/** A first result, and the decisions made from it by the digest the registry served. */
export interface MemoEntry extends FirstResult {
  readonly byDigest: Map<string, Decision>;
}

/** One generation's results: by namespace, by context flags (dryRun, controlled), by image. */
interface Generation {
  entries: number;
  readonly byNamespace: Map<string, readonly Map<string, MemoEntry>[]>;
}

/**
 * decide()'s results, kept per policy generation. decide() is a pure function of the image,
 * the context's namespace, dryRun and controlled, the policy, and the digest the registry
 * serves; a Policy is immutable (an edit is a new generation, a new object), so for one Policy
 * the same inputs give the same result, and a warm review reads it instead of deciding again
 * (parsing the reference, matching exemptions and registries, finding the pin, writing the
 * messages). A registry failure is never kept: its text is the failure's own. Results are
 * frozen, as they are shared; a generation no longer in force is dropped with its results.
 * Lookups are by the strings as they come (no key is built), in nested maps.
 */
export class DecisionMemo {
  readonly #byPolicy = new WeakMap<Policy, Generation>();

  /** The first call's result for `image` in `context`, computed once per generation. */
  first(
    image: string,
    context: DecisionContext,
    policy: Policy,
    compute: () => FirstResult,
  ): MemoEntry {
    const generation = this.#generation(policy);
    let flags = generation.byNamespace.get(context.namespace);
    if (flags === undefined) {
      flags = [new Map(), new Map(), new Map(), new Map()];
      generation.byNamespace.set(context.namespace, flags);
    }
    const byImage = flags[(context.dryRun ? 1 : 0) + (context.controlled === true ? 2 : 0)];
    let entry = byImage?.get(image);
    if (entry === undefined) {
      const { parsed, result } = compute();
      entry = Object.freeze({ parsed, result: frozen(result), byDigest: new Map() });
      byImage?.set(image, entry);
      generation.entries++;
    }
    return entry;
  }

  /** The decision of `entry` once the registry served `digest`, computed once per generation. */
  second(entry: MemoEntry, digest: string, compute: () => Decision): Decision {
    let decision = entry.byDigest.get(digest);
    if (decision === undefined) {
      decision = frozen(compute());
      if (entry.byDigest.size >= MAX_DIGESTS) entry.byDigest.clear();
      entry.byDigest.set(digest, decision);
    }
    return decision;
  }

  #generation(policy: Policy): Generation {
    let generation = this.#byPolicy.get(policy);
    if (generation === undefined || generation.entries >= MAX_ENTRIES) {
      generation = { entries: 0, byNamespace: new Map() };
      this.#byPolicy.set(policy, generation);
    }
    return generation;
  }
}

/** A result frozen with what it holds (the pin record, the drift, the pin move). */
function frozen<T extends DecideResult>(result: T): T {
  for (const value of Object.values(result))
    if (typeof value === "object" && value !== null && !Object.isFrozen(value))
      Object.freeze(value);
  return Object.freeze(result);
}
