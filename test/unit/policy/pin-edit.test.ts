import test from "ava";
import { checkPolicyDocument } from "../../../src/policy/document/document.ts";
import { addPins } from "../../../src/pins/pin-edit.ts";
import { PolicyInvalidError } from "../../../src/policy/document/issues.ts";
import type { PinRecord } from "../../../src/policy/document/schema.ts";
import { digest } from "./fixtures.ts";

// Adding pins keeps a person's YAML as written: only new lines appear.

const A = digest("a");
const B = digest("b");
const C = digest("c");

const HUMAN = `# Pins of the shop (owned by the platform team)
apiVersion: digestpin.dev/v1alpha1
kind: Policy
mode: enforce   # spaced comment
registries: [{host: docker.io}]

pins:
  # the base images
  busybox:1.36: ${A} # reviewed 2026-11
  'ghcr.io/acme/api:v2':
    digest: "${B}"
    reason: >-
      folded
      reason

# trailing comment
`;

const record = (key: string, d: string, extra: Partial<PinRecord> = {}): PinRecord => ({
  key,
  digest: d,
  history: [],
  ...extra,
});

function pinsOf(text: string) {
  const result = checkPolicyDocument(text, "edited");
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return new Map(result.document.pins.map((pin) => [pin.key, pin]));
}

test("a new pin is appended after the last one; every other line stays byte for byte", (t) => {
  const pin = record("docker.io/library/redis:7.4", C, {
    pinnedAt: "2026-11-26T10:00:00Z",
    pinnedBy: "alice@example.com",
    reason: "release: 7.4 #1",
    platforms: { "linux/amd64": digest("1"), "linux/arm64": digest("2") },
  });
  const { text, outcomes } = addPins(HUMAN, [pin]);
  t.deepEqual(outcomes, [{ key: pin.key, outcome: "added", digest: C }]);
  const lines = HUMAN.split("\n");
  const at = lines.indexOf("      reason") + 1;
  t.is(
    text,
    [
      ...lines.slice(0, at),
      "  docker.io/library/redis:7.4:",
      `    digest: ${C}`,
      '    pinnedAt: "2026-11-26T10:00:00Z"',
      "    pinnedBy: alice@example.com",
      '    reason: "release: 7.4 #1"',
      "    platforms:",
      `      linux/amd64: ${digest("1")}`,
      `      linux/arm64: ${digest("2")}`,
      ...lines.slice(at),
    ].join("\n"),
  );
  t.like(pinsOf(text).get(pin.key), { digest: C, reason: "release: 7.4 #1" });
});

test("the first digest recorded for a key wins, in any spelling and within one call", (t) => {
  const { text, outcomes } = addPins(HUMAN, [
    record("docker.io/library/busybox:1.36", B),
    record("docker.io/library/busybox:1.36", A),
    record("ghcr.io/acme/api:v2", B),
    record("docker.io/library/nginx:1", A),
    record("docker.io/library/nginx:1", B),
  ]);
  t.deepEqual(
    outcomes.map((o) => [o.key, o.outcome, o.digest]),
    [
      ["docker.io/library/busybox:1.36", "conflict", A],
      ["docker.io/library/busybox:1.36", "unchanged", A],
      ["ghcr.io/acme/api:v2", "unchanged", B],
      ["docker.io/library/nginx:1", "added", A],
      ["docker.io/library/nginx:1", "conflict", A],
    ],
  );
  const pins = pinsOf(text);
  t.is(pins.get("docker.io/library/busybox:1.36")?.digest, A);
  t.is(pins.get("docker.io/library/nginx:1")?.digest, A);
});

test("nothing to add: the very same text", (t) => {
  const { text } = addPins(HUMAN, [record("docker.io/library/busybox:1.36", A)]);
  t.is(text, HUMAN);
});

const shapes = {
  "no pins key": "apiVersion: digestpin.dev/v1alpha1\nkind: Pins\n",
  "no final newline": "apiVersion: digestpin.dev/v1alpha1\nkind: Pins",
  "pins: with no value": "apiVersion: digestpin.dev/v1alpha1\nkind: Pins\npins: # none yet\n",
  "an empty flow mapping": "apiVersion: digestpin.dev/v1alpha1\nkind: Pins\npins: {}\n",
  "a flow mapping": `apiVersion: digestpin.dev/v1alpha1\nkind: Pins\npins: {app:1: ${A}}\n`,
};

for (const [shape, text] of Object.entries(shapes)) {
  test(`pins are added to a document with ${shape}`, (t) => {
    const edited = addPins(text, [record("docker.io/library/redis:7", B)]).text;
    const pins = pinsOf(edited);
    t.is(pins.get("docker.io/library/redis:7")?.digest, B);
    t.is(pins.size, shape === "a flow mapping" ? 2 : 1);
    t.true(edited.startsWith("apiVersion: digestpin.dev/v1alpha1\nkind: Pins\n"));
    if (shape === "pins: with no value") t.true(edited.includes("pins: # none yet\n  docker.io"));
  });
}

test("a document that is not YAML is refused with its issues", (t) => {
  const error = t.throws(() => addPins("pins: [unclosed\n", [record("docker.io/library/a:1", A)]));
  t.true(error instanceof PolicyInvalidError);
});
