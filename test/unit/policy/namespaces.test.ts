import test from "ava";
import { selects } from "../../../src/policy/document/label-selector.ts";
import {
  nameOnlyLabels,
  policyInNamespace,
} from "../../../src/policy/decide/namespace-settings.ts";
import { PolicyInvalidError, formatIssue } from "../../../src/policy/index.ts";
import { policyOf } from "./fixtures.ts";

const rules = `mode: warn
namespaces:
  - selector:
      matchLabels:
        digestpin.dev/enforce: "true"
    mode: enforce
    drift: deny
  - selector:
      matchExpressions:
        - key: kubernetes.io/metadata.name
          operator: In
          values: [legacy-a, legacy-b]
    unpinned: allow
    rewrite: none
`;

test("the first rule that selects a namespace overrides the policy's settings there", (t) => {
  const policy = policyOf(rules);
  const enforced = policyInNamespace(policy, {
    ...nameOnlyLabels("b"),
    "digestpin.dev/enforce": "true",
  });
  t.is(enforced.settings.mode, "enforce");
  t.is(enforced.settings.unpinned, "deny");
  t.is(enforced.pins, policy.pins, "pins and matchers are shared");
  const legacy = policyInNamespace(policy, nameOnlyLabels("legacy-a"));
  t.like(legacy.settings, { mode: "warn", unpinned: "allow", rewrite: "none" });
  const other = policyInNamespace(policy, nameOnlyLabels("c"));
  t.is(other, policy, "no rule selects it: the policy itself");
  t.is(
    policyInNamespace(policy, nameOnlyLabels("legacy-b")),
    policyInNamespace(policy, nameOnlyLabels("legacy-a")),
    "one view per rule",
  );
});

test("label selectors read as the API server reads them", (t) => {
  const selector = {
    matchLabels: { team: "shop" },
    matchExpressions: [
      { key: "tier", operator: "NotIn" as const, values: ["test"] },
      { key: "owner", operator: "Exists" as const, values: [] },
      { key: "legacy", operator: "DoesNotExist" as const, values: [] },
    ],
  };
  t.true(selects(selector, { team: "shop", owner: "x" }));
  t.true(selects(selector, { team: "shop", owner: "x", tier: "prod" }));
  t.false(selects(selector, { team: "shop", owner: "x", tier: "test" }));
  t.false(selects(selector, { team: "shop" }));
  t.false(selects(selector, { team: "shop", owner: "x", legacy: "" }));
  t.false(selects(selector, { team: "web", owner: "x" }));
  t.false(selects(selector, { ["constructor"]: "x", owner: "x" }), "own keys only");
});

test("bad rules are reported with where and what, every one at once", (t) => {
  const error = t.throws(
    () =>
      policyOf(`namespaces:
  - selector: {}
    mode: enforce
  - selector:
      matchLabels: {"bad key!": x}
    mode: strict
  - selector:
      matchExpressions:
        - {key: team, operator: In}
    drift: deny
  - selector:
      matchLabels: {team: shop}
  - mode: warn
    registries: []
`),
    { instanceOf: PolicyInvalidError },
  );
  t.deepEqual(error.issues.map(formatIssue), [
    "policy.yaml:4:15: namespaces[0].selector: an empty selector selects every namespace; give matchLabels or matchExpressions",
    'policy.yaml:7:21: namespaces[1].selector.matchLabels["bad key!"]: "bad key!" is not a label key ([prefix/]name, e.g. "team" or "example.com/team")',
    'policy.yaml:8:11: namespaces[1].mode: "strict" is not one of enforce, warn, audit',
    "policy.yaml:11:11: namespaces[2].selector.matchExpressions[0].values: operator In needs values",
    "policy.yaml:13:5: namespaces[3]: a rule must set at least one of mode, unpinned, drift, controllerPods, rewrite",
    "policy.yaml:15:5: namespaces[4].selector: a rule needs a selector",
    'policy.yaml:16:5: namespaces[4].registries: unknown key "registries"; expected one of selector, mode, unpinned, drift, controllerPods, rewrite',
  ]);
});
