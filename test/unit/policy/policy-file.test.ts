import test from "ava";
import {
  checkPolicyFile,
  checkPolicyFiles,
  splitPolicyFile,
  type FileDocument,
} from "../../../src/policy/index.ts";
import { digest, HEADER } from "./fixtures.ts";

const PINS_HEADER = "apiVersion: digestpin.dev/v1alpha1\nkind: Pins\n";

const CONFIGMAP = `apiVersion: v1
kind: ConfigMap
metadata:
  name: digestpin-policy
  namespace: digestpin-system
data:
  policy.yaml: |
    apiVersion: digestpin.dev/v1alpha1
    kind: Policy
    drift: deny
    pins:
      busybox:1.36: ${digest("d")}
  pins.yaml: |
    apiVersion: digestpin.dev/v1alpha1
    kind: Pins
    pins:
      nginx:1.27: ${digest("e")}
`;

function only(documents: readonly FileDocument[], name: string): FileDocument {
  const found = documents.find((d) => d.name.includes(name));
  if (found === undefined) throw new Error(`no document ${name}`);
  return found;
}

test("a file of one document is read whole, as before", (t) => {
  const text = `${HEADER}drift: deny\n`;
  const split = splitPolicyFile(text, "policy.yaml");
  t.is(split.length, 1);
  t.is(split[0]?.name, "policy.yaml");
  t.is(split[0]?.text, text);
});

test("a multi-document file: each document is checked alone and issues say the file's line", (t) => {
  const text = `${HEADER}drift: deny\n---\n${PINS_HEADER}pins:\n  busybox:1.36: not-a-digest\n`;
  const checked = checkPolicyFile({ file: "policy.yaml", text }, true);
  t.is(checked.policies.length, 1);
  t.true(checked.policies[0]?.ok);
  const [pins] = checked.pins;
  if (pins === undefined || pins.ok) return t.fail("the pins document should be invalid");
  const [issue] = pins.issues;
  t.is(issue?.source, "policy.yaml");
  // The bad digest is on line 8 of the file (line 4 of the second document).
  t.is(issue?.line, 8);
  t.is(issue?.column, 17);
});

test("a ConfigMap manifest as kept in Git: its policy.yaml and pins.yaml, lines of the file", (t) => {
  const checked = checkPolicyFiles([{ file: "k8s/policy.yaml", text: CONFIGMAP }]);
  if (!checked.policy.ok) return t.fail(JSON.stringify(checked.policy.issues));
  t.is(checked.policy.document.kind, "Policy");
  const pin = checked.policy.document.pins[0];
  t.is(pin?.key, "docker.io/library/busybox:1.36");
  t.deepEqual(pin?.origin, { source: "k8s/policy.yaml", line: 12, column: 7 });
  const [pins] = checked.pins;
  if (!pins?.ok) return t.fail();
  t.deepEqual(pins.document.pins[0]?.origin, { source: "k8s/policy.yaml", line: 17, column: 7 });
});

test("an invalid setting inside a ConfigMap's policy.yaml points at the file's line and column", (t) => {
  const text = CONFIGMAP.replace("drift: deny", "drift: maybe");
  const checked = checkPolicyFiles([{ file: "cm.yaml", text }]);
  if (checked.policy.ok) return t.fail();
  const [issue] = checked.policy.issues;
  t.is(issue?.source, "cm.yaml");
  t.is(issue?.line, 10);
  t.is(issue?.column, 12);
  t.is(issue?.path, "drift");
});

test("other objects of a manifest bundle are left out; a misspelt digestpin document is not", (t) => {
  const bundle = `${HEADER}drift: deny\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\ndata:\n  x: y\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n`;
  const split = splitPolicyFile(bundle, "all.yaml");
  t.deepEqual(
    split.map((d) => d.name),
    ["all.yaml (document 1)"],
  );
  const misspelt = `${HEADER}---\napiVersion: digestpin.dev/v1\nkind: Pins\npins: {}\n`;
  const checked = checkPolicyFiles([{ file: "p.yaml", text: misspelt }]);
  const [pins] = checked.pins;
  t.false(pins?.ok);
  if (pins !== undefined && !pins.ok) t.is(pins.issues[0]?.line, 4);
});

test("two Policy documents are refused; a file without one too", (t) => {
  const two = checkPolicyFiles([{ file: "p.yaml", text: `${HEADER}---\n${HEADER}` }]);
  t.false(two.policy.ok);
  if (!two.policy.ok) t.regex(two.policy.issues[0]?.message ?? "", /more than one kind: Policy/);
  const none = checkPolicyFiles([
    { file: "p.yaml", text: `${PINS_HEADER}pins: {}\n---\n${PINS_HEADER}pins: {}\n` },
  ]);
  t.false(none.policy.ok);
  if (!none.policy.ok) t.regex(none.policy.issues[0]?.message ?? "", /holds no kind: Policy/);
});

test("replace writes a document back in place: the rest of the file is kept byte for byte", (t) => {
  const split = splitPolicyFile(CONFIGMAP, "cm.yaml");
  const pins = only(split, "pins.yaml");
  const next = `${pins.text}  redis:7: ${digest("7")}\n`;
  const written = pins.replace?.(CONFIGMAP, next) ?? "";
  t.true(written.startsWith(CONFIGMAP.slice(0, pins.start)));
  const again = splitPolicyFile(written, "cm.yaml");
  t.is(only(again, "pins.yaml").text, next);
  t.is(only(again, "policy.yaml").text, only(split, "policy.yaml").text);

  const policy = only(split, "policy.yaml");
  const both = policy.replace?.(written, policy.text.replace("deny", "warn")) ?? "";
  const third = splitPolicyFile(both, "cm.yaml");
  t.regex(only(third, "policy.yaml").text, /drift: warn/);
  t.is(only(third, "pins.yaml").text, next);
});

test("a quoted ConfigMap value is read but cannot be written back in place", (t) => {
  const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p}\ndata:\n  policy.yaml: "apiVersion: digestpin.dev/v1alpha1\\nkind: Policy\\n"\n`;
  const split = splitPolicyFile(text, "cm.yaml");
  t.is(split[0]?.replace, undefined);
  const checked = checkPolicyFiles([{ file: "cm.yaml", text }]);
  t.true(checked.policy.ok);
});

test("a ConfigMap is unwrapped however its root is written: indented, flow, quoted key", (t) => {
  const names = (text: string) => splitPolicyFile(text, "cm.yaml").map((d) => d.name);
  const indented = CONFIGMAP.split("\n")
    .map((line) => (line === "" ? line : `  ${line}`))
    .join("\n");
  const flow = `{apiVersion: v1, kind: ConfigMap, metadata: {name: p}, data: {"policy.yaml": "${HEADER.replaceAll("\n", "\\n")}drift: deny\\n"}}\n`;
  const quoted = CONFIGMAP.replace("kind: ConfigMap", '"kind": "ConfigMap"');
  for (const text of [CONFIGMAP, indented, flow, quoted]) {
    const split = names(text);
    t.true(
      split.length > 0 && split.every((name) => name !== "cm.yaml"),
      `${text}: ${split.join()}`,
    );
  }
});

test("one document read whole without parsing the file first: same result, a large file fast", (t) => {
  const pins = Array.from(
    { length: 50_000 },
    (_, i) =>
      `  registry.example/t/s${i}:1.0:\n    digest: ${digest((i % 16).toString(16))}\n    reason: "release ${i}"`,
  );
  const text = `${HEADER}drift: deny\npins:\n${pins.join("\n")}\n`;
  const split = splitPolicyFile(text, "big.yaml");
  t.is(split.length, 1);
  t.is(split[0]?.text, text);
  const checked = checkPolicyFile({ file: "big.yaml", text }, true);
  const [policy] = checked.policies;
  if (!policy?.ok) return t.fail("not ok");
  t.is(policy.document.pins.length, 50_000);
  // A PEM in a block scalar holds dashes, never at the start of a line: still one document.
  const withCa = `${HEADER}registries:\n  - host: r.example\n    ca: |\n      -----BEGIN CERTIFICATE-----\n      MIIB\n      -----END CERTIFICATE-----\n`;
  t.deepEqual(
    splitPolicyFile(withCa, "ca.yaml").map((d) => d.name),
    ["ca.yaml"],
  );
});
