import { entryForRegistry } from "../../reference/index.ts";
import { canonicalHost, type RegistryRule } from "../document/index.ts";

/** Which registries a policy lets digestpin contact. */
export interface RegistryMatcher {
  /** False when the policy lists no registries: then any registry is allowed by name. */
  readonly restricted: boolean;
  /**
   * Whether a reference to `registry` may be resolved. The same lookup as the resolver's
   * (entryForRegistry), so decide() and the resolver never disagree.
   */
  allows(registry: string): boolean;
  /** The hosts listed, for messages. */
  readonly hosts: readonly string[];
}

export function compileRegistries(rules: readonly RegistryRule[] | null): RegistryMatcher {
  if (rules === null) return { restricted: false, allows: () => true, hosts: [] };
  return {
    restricted: true,
    allows: (registry) => entryForRegistry(canonicalHost(registry), rules) !== undefined,
    hosts: rules.map((rule) => rule.host),
  };
}
