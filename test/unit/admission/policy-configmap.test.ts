import test from "ava";
import { reviewPolicyConfigMap } from "../../../src/admission/policy-configmap.ts";
import { request } from "./fixtures.ts";

const WHERE = { namespace: "digestpin-system", policy: "digestpin-policy" };

const configMap = (name: string, data: Record<string, string>, labels = {}) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "digestpin-system", labels },
  data,
});

const review = (object: unknown) =>
  reviewPolicyConfigMap(
    request("ConfigMap", object, { namespace: "digestpin-system", operation: "UPDATE" }),
    WHERE,
  );

test("an invalid policy edit is a 422 with the message and one cause per issue (what kubectl edit shows)", (t) => {
  const policy = [
    "apiVersion: digestpin.dev/v1alpha1",
    "kind: Policy",
    "mode: strict",
    "pins:",
    "  busybox:1.36: sha256:abc",
    "",
  ].join("\n");
  const response = review(configMap("digestpin-policy", { "policy.yaml": policy }));
  const issues = [
    'configmap digestpin-system/digestpin-policy policy.yaml:3:7: mode: "strict" is not one of enforce, warn, audit',
    'configmap digestpin-system/digestpin-policy policy.yaml:5:17: pins["busybox:1.36"]: "sha256:abc" is not a sha256 digest (64 lowercase hex)',
  ];
  t.deepEqual(response, {
    uid: "7b0f1f6c-uid",
    allowed: false,
    status: {
      code: 422,
      reason: "Invalid",
      message: `invalid digestpin policy:\n${issues.join("\n")}`,
      details: {
        name: "digestpin-policy",
        kind: "configmaps",
        causes: issues.map((message) => ({
          reason: "FieldValueInvalid",
          message,
          field: "data[policy.yaml]",
        })),
      },
    },
  });
});

test("a pins ConfigMap without pins.yaml is refused with a FieldValueRequired cause", (t) => {
  const response = review(configMap("team-pins", { other: "x" }, { "digestpin.dev/pins": "true" }));
  const message =
    'configmap digestpin-system/team-pins pins.yaml: the ConfigMap has no "pins.yaml" key; digestpin reads its pins from it';
  t.deepEqual(response.status, {
    code: 422,
    reason: "Invalid",
    message,
    details: {
      name: "team-pins",
      kind: "configmaps",
      causes: [{ reason: "FieldValueRequired", message, field: "data[pins.yaml]" }],
    },
  });
});

test("valid documents and unrelated ConfigMaps pass", (t) => {
  const policy = "apiVersion: digestpin.dev/v1alpha1\nkind: Policy\n";
  t.deepEqual(review(configMap("digestpin-policy", { "policy.yaml": policy })), {
    uid: "7b0f1f6c-uid",
    allowed: true,
  });
  t.true(review(configMap("kube-root-ca.crt", { "ca.crt": "x" })).allowed);
});

test("a data value that is not a string is refused like a missing key, not a 500", (t) => {
  const object = { ...configMap("digestpin-policy", {}), data: { "policy.yaml": 42 } };
  const response = review(object);
  t.false(response.allowed);
  t.is(response.status?.code, 422);
  t.regex(response.status?.message ?? "", /has no "policy.yaml" key/);
});
