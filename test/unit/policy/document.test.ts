import { readFileSync } from "node:fs";
import test from "ava";
import {
  checkPolicyDocument,
  DEFAULT_SETTINGS,
  formatIssue,
  parsePolicyDocument,
  PolicyInvalidError,
  type PolicyDocument,
} from "../../../src/policy/index.ts";
import { D, digest, HEADER } from "./fixtures.ts";

/** Every issue of `text`, formatted as the CLI prints them. */
function errors(text: string, source = "policy.yaml"): string[] {
  const result = checkPolicyDocument(text, source);
  return result.ok ? [] : result.issues.map(formatIssue);
}

test("a header-only policy takes every default", (t) => {
  const document = parsePolicyDocument(HEADER, "policy.yaml");
  t.is(document.kind, "Policy");
  t.deepEqual((document as PolicyDocument).settings, DEFAULT_SETTINGS);
  t.deepEqual(document.pins, []);
  t.is(DEFAULT_SETTINGS.mode, "enforce");
  t.is(DEFAULT_SETTINGS.unpinned, "deny");
  t.is(DEFAULT_SETTINGS.drift, "deny");
  t.is(DEFAULT_SETTINGS.registryUnavailable, "use-pin");
  t.is(DEFAULT_SETTINGS.rewrite, "tag-and-digest");
  t.is(DEFAULT_SETTINGS.cacheTTLMs, 30_000);
  t.is(DEFAULT_SETTINGS.registries, null);
});

test("null settings (`key:` with nothing) take their defaults", (t) => {
  const document = parsePolicyDocument(
    `${HEADER}mode:\nregistries:\nexempt:\npins:\n`,
    "policy.yaml",
    { expect: "Policy" },
  );
  t.deepEqual(document.settings, DEFAULT_SETTINGS);
});

test("every setting is read", (t) => {
  const document = parsePolicyDocument(
    `${HEADER}mode: warn
unpinned: trust-on-first-use
drift: warn
controllerPods: strict
registryUnavailable: deny
rewrite: digest
cacheTTL: 1m30s
namespaces:
  - selector:
      matchLabels: {team: shop}
      matchExpressions:
        - {key: tier, operator: NotIn, values: [test]}
    mode: enforce
    rewrite: none
registries:
  - host: Registry.Example.com:5000
    mirrors: ["https://mirror.internal:5000", "https://mirror2.internal/v2/proxy"]
    credentialsSecret: regcred
  - host: index.docker.io
    insecure: true
    mirrors: ["http://plain.internal"]
    allowPrivateAddresses: true
  - host: "*.corp.example.com"
    credentialsSecret: digestpin-system/corp
exempt:
  namespaces: [kube-system, monitoring]
  images: ["registry.k8s.io/pause:*", "ghcr.io/acme/tools/**"]
`,
    "policy.yaml",
    { expect: "Policy" },
  );
  t.deepEqual(document.settings, {
    mode: "warn",
    unpinned: "trust-on-first-use",
    drift: "warn",
    controllerPods: "strict",
    registryUnavailable: "deny",
    rewrite: "digest",
    cacheTTLMs: 90_000,
    namespaces: [
      {
        selector: {
          matchLabels: { team: "shop" },
          matchExpressions: [{ key: "tier", operator: "NotIn", values: ["test"] }],
        },
        settings: { mode: "enforce", rewrite: "none" },
      },
    ],
    registries: [
      {
        host: "registry.example.com:5000",
        mirrors: ["https://mirror.internal:5000", "https://mirror2.internal/v2/proxy"],
        insecure: false,
        credentialsSecret: { namespace: null, name: "regcred" },
        allowPrivateAddresses: false,
      },
      {
        host: "docker.io",
        mirrors: ["http://plain.internal"],
        insecure: true,
        allowPrivateAddresses: true,
      },
      {
        host: "*.corp.example.com",
        mirrors: [],
        insecure: false,
        credentialsSecret: { namespace: "digestpin-system", name: "corp" },
        allowPrivateAddresses: false,
      },
    ],
    exempt: {
      namespaces: ["kube-system", "monitoring"],
      images: ["registry.k8s.io/pause:*", "ghcr.io/acme/tools/**"],
    },
  });
});

test("examples/policy.yaml is valid", (t) => {
  const text = readFileSync(new URL("../../../examples/policy.yaml", import.meta.url), "utf8");
  const document = parsePolicyDocument(text, "examples/policy.yaml", { expect: "Policy" });
  t.true(document.pins.length >= 3);
  t.truthy(document.settings.registries?.some((r) => r.ca?.includes("BEGIN CERTIFICATE")));
});

test("a Pins document has pins only", (t) => {
  const text = `apiVersion: digestpin.dev/v1alpha1\nkind: Pins\npins:\n  busybox:1.36: ${D}\n`;
  const document = parsePolicyDocument(text, "configmap digestpin-system/digestpin-pins-auto", {
    expect: "Pins",
  });
  t.deepEqual(document, {
    kind: "Pins",
    source: "configmap digestpin-system/digestpin-pins-auto",
    pins: [
      {
        key: "docker.io/library/busybox:1.36",
        digest: D,
        history: [],
        origin: { source: "configmap digestpin-system/digestpin-pins-auto", line: 4, column: 3 },
      },
    ],
    removed: [],
  });
  t.deepEqual(errors(`apiVersion: digestpin.dev/v1alpha1\nkind: Pins\nmode: warn\n`, "pins.yaml"), [
    "pins.yaml:3:1: mode: settings are not allowed in a kind: Pins document (only pins); put them in the Policy",
  ]);
});

test("the caller can require a kind", (t) => {
  const result = checkPolicyDocument(HEADER, "configmap ns/pins", { expect: "Pins" });
  t.false(result.ok);
  t.deepEqual(result.ok ? [] : result.issues.map(formatIssue), [
    "configmap ns/pins:2:7: kind: expected Pins here, got Policy",
  ]);
});

test("parsePolicyDocument throws ERR_POLICY_INVALID carrying every issue", (t) => {
  const error = t.throws(
    () => parsePolicyDocument(`${HEADER}mode: strict\ndrift: maybe\n`, "p.yaml"),
    {
      instanceOf: PolicyInvalidError,
    },
  );
  t.is(error.code, "ERR_POLICY_INVALID");
  t.is(error.issues.length, 2);
  t.is(
    error.message,
    [
      "invalid policy (2 errors):",
      'p.yaml:3:7: mode: "strict" is not one of enforce, warn, audit',
      'p.yaml:4:8: drift: "maybe" is not one of deny, warn',
    ].join("\n  "),
  );
});

test("header errors", (t) => {
  t.deepEqual(errors("mode: warn\n"), [
    "policy.yaml:1:1: apiVersion: is required: digestpin.dev/v1alpha1",
    "policy.yaml:1:1: kind: is required: Policy or Pins",
  ]);
  t.deepEqual(errors("apiVersion: digestpin.dev/v1\nkind: Polcy\n"), [
    'policy.yaml:1:13: apiVersion: "digestpin.dev/v1" is not supported; expected digestpin.dev/v1alpha1',
    'policy.yaml:2:7: kind: "Polcy" is not one of Policy, Pins',
  ]);
});

test("the document must be one mapping", (t) => {
  t.deepEqual(errors(""), [
    "policy.yaml:1:1: the document is empty; expected a mapping with apiVersion: digestpin.dev/v1alpha1 and kind: Policy or Pins",
  ]);
  t.deepEqual(errors("- a\n- b\n"), [
    "policy.yaml:1:1: expected a mapping with apiVersion, kind and pins, got a list",
  ]);
  t.is(errors(`${HEADER}---\n${HEADER}`).length, 1);
  t.regex(
    errors(`${HEADER}---\n${HEADER}`)[0]!,
    /^policy\.yaml:3:1: YAML syntax: only one document here: remove the `---`/,
  );
});

test("YAML syntax errors carry their position", (t) => {
  t.deepEqual(errors(`${HEADER}pins:\n  busybox:1.36: [unclosed\n`), [
    "policy.yaml:5:1: YAML syntax: flow sequence in block collection must be sufficiently indented and end with a ]",
  ]);
  const tab = errors(`${HEADER}exempt:\n\tnamespaces: []\n`);
  t.is(tab.length >= 1, true);
  t.regex(tab[0]!, /^policy\.yaml:4:1: /);
});

test("unknown keys are errors, with a suggestion when one is close", (t) => {
  t.deepEqual(errors(`${HEADER}unpined: deny\nregistry_unavailable: deny\nfoo: 1\n`), [
    'policy.yaml:3:1: unpined: unknown key "unpined" (did you mean "unpinned"?); expected one of apiVersion, kind, mode, unpinned, drift, controllerPods, registryUnavailable, rewrite, cacheTTL, registries, exempt, baseImages, namespaces, driftScan, signatures, approvals, pins, removed',
    'policy.yaml:4:1: registry_unavailable: unknown key "registry_unavailable" (did you mean "registryUnavailable"?); expected one of apiVersion, kind, mode, unpinned, drift, controllerPods, registryUnavailable, rewrite, cacheTTL, registries, exempt, baseImages, namespaces, driftScan, signatures, approvals, pins, removed',
    'policy.yaml:5:1: foo: unknown key "foo"; expected one of apiVersion, kind, mode, unpinned, drift, controllerPods, registryUnavailable, rewrite, cacheTTL, registries, exempt, baseImages, namespaces, driftScan, signatures, approvals, pins, removed',
  ]);
  t.deepEqual(errors(`${HEADER}exempt:\n  namespace: [a]\n`), [
    'policy.yaml:4:3: exempt.namespace: unknown key "namespace" (did you mean "namespaces"?); expected one of namespaces, images',
  ]);
});

test("duplicate keys name the first one", (t) => {
  t.deepEqual(errors(`${HEADER}mode: warn\nmode: audit\n`), [
    'policy.yaml:4:1: mode: duplicate key "mode": already at line 3:1',
  ]);
});

test("type errors say what was expected and what was found", (t) => {
  t.deepEqual(
    errors(`${HEADER}mode: 1\nrewrite: [digest]\ncacheTTL: 30\nexempt: [kube-system]\n`),
    [
      "policy.yaml:3:7: mode: expected a string, got the number 1",
      "policy.yaml:4:10: rewrite: expected a string, got a list",
      "policy.yaml:5:11: cacheTTL: expected a string, got the number 30",
      "policy.yaml:6:9: exempt: expected a mapping, got a list",
    ],
  );
  t.deepEqual(errors(`${HEADER}exempt:\n  namespaces: kube-system\n  images: [1, ~]\n`), [
    'policy.yaml:4:15: exempt.namespaces: expected a list, got "kube-system"',
    "policy.yaml:5:12: exempt.images[0]: expected a string, got the number 1",
    "policy.yaml:5:15: exempt.images[1]: expected a value, got null",
  ]);
});

test("cacheTTL is a duration between 0s and 1h", (t) => {
  t.deepEqual(errors(`${HEADER}cacheTTL: 2h\n`), [
    'policy.yaml:3:11: cacheTTL: "2h" is longer than the maximum, 1h',
  ]);
  t.deepEqual(errors(`${HEADER}cacheTTL: "30"\n`), [
    'policy.yaml:3:11: cacheTTL: "30" needs a unit: ms, s, m or h',
  ]);
  t.deepEqual(errors(`${HEADER}cacheTTL: 0s\n`), []);
  t.deepEqual(errors(`${HEADER}cacheTTL: 1h\n`), []);
});

test("exempt values are checked", (t) => {
  t.deepEqual(errors(`${HEADER}exempt:\n  namespaces: [Kube_System]\n  images: ["pause:*"]\n`), [
    'policy.yaml:4:16: exempt.namespaces[0]: "Kube_System" is not a namespace name (lowercase letters, digits and "-", at most 63)',
    'policy.yaml:5:12: exempt.images[0]: "pause:*" never matches: patterns match the canonical reference, which starts with the registry; write "docker.io/library/pause:*"',
  ]);
});

test("aliases are followed", (t) => {
  const document = parsePolicyDocument(
    `${HEADER}exempt:\n  namespaces: &system [kube-system]\npins:\n  a:1: &d ${digest("a")}\n  b:1: *d\n`,
    "policy.yaml",
    { expect: "Policy" },
  );
  t.deepEqual(document.settings.exempt.namespaces, ["kube-system"]);
  t.deepEqual(
    document.pins.map((p) => p.digest),
    [digest("a"), digest("a")],
  );
});

test("all errors are reported at once, in document order", (t) => {
  const found = errors(`${HEADER}mode: x
registries:
  - host: https://ghcr.io
pins:
  busybox:1.36: sha256:abc
drift: y
`);
  t.deepEqual(found, [
    'policy.yaml:3:7: mode: "x" is not one of enforce, warn, audit',
    'policy.yaml:5:11: registries[0].host: "https://ghcr.io": write the host without a scheme (e.g. "ghcr.io")',
    'policy.yaml:7:17: pins["busybox:1.36"]: "sha256:abc" is not a sha256 digest (64 lowercase hex)',
    'policy.yaml:8:8: drift: "y" is not one of deny, warn',
  ]);
});
