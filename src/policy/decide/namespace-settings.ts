import { selects, type Labels } from "../document/index.ts";
import type { Policy } from "./policy.ts";

/** Per policy generation, the view of each `namespaces` rule, made once. */
const views = new WeakMap<Policy, Map<number, Policy>>();

/**
 * The policy as it applies in a namespace with `labels`: the settings of the first `namespaces`
 * rule that selects it over the policy's own, the pins and matchers shared. Without a rule that
 * selects it, the policy itself.
 */
export function policyInNamespace(policy: Policy, labels: Labels): Policy {
  const rules = policy.settings.namespaces;
  if (rules.length === 0) return policy;
  const index = rules.findIndex((rule) => selects(rule.selector, labels));
  const rule = rules[index];
  if (rule === undefined) return policy;
  let byRule = views.get(policy);
  if (byRule === undefined) {
    byRule = new Map();
    views.set(policy, byRule);
  }
  let view = byRule.get(index);
  if (view === undefined) {
    view = { ...policy, settings: { ...policy.settings, ...rule.settings } };
    byRule.set(index, view);
  }
  return view;
}

/** The label every namespace carries with its own name (Kubernetes sets it). */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

/** The labels known of a namespace when only its name is: its name label. */
export function nameOnlyLabels(namespace: string): Labels {
  return { [NAMESPACE_NAME_LABEL]: namespace };
}
