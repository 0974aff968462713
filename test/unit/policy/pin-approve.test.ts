import test from "ava";
import { checkPolicyDocument } from "../../../src/policy/document/document.ts";
import { approvePin } from "../../../src/pins/pin-approve.ts";
import { digest } from "./fixtures.ts";

// Approving a moved tag: the new digest in place, the old one first in history.

const [A, B, C] = [digest("a"), digest("b"), digest("c")];
const KEY = "docker.io/library/busybox:1.36";

const approval = (d: string, when: string, who: string, why: string) => ({
  digest: d,
  pinnedAt: when,
  pinnedBy: who,
  reason: why,
});

function pinOf(text: string, key = KEY) {
  const result = checkPolicyDocument(text, "edited");
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.document.pins.find((pin) => pin.key === key);
}

test("a short-form pin becomes a mapping; its comment and every other line stay", (t) => {
  const text = `apiVersion: digestpin.dev/v1alpha1
kind: Policy
pins:
  # base image
  busybox:1.36: ${A} # reviewed
  nginx:1: ${C}
`;
  const edited = approvePin(text, KEY, approval(B, "2026-11-26T10:00:00Z", "bob", "upstream fix"));
  t.is(
    edited,
    `apiVersion: digestpin.dev/v1alpha1
kind: Policy
pins:
  # base image
  busybox:1.36: # reviewed
    digest: ${B}
    pinnedAt: "2026-11-26T10:00:00Z"
    pinnedBy: bob
    reason: upstream fix
    history:
      - digest: ${A}
        replacedAt: "2026-11-26T10:00:00Z"
        replacedBy: bob
        replaceReason: upstream fix
  nginx:1: ${C}
`,
  );
});

test("history is newest first, each entry with who/when/why of both pins", (t) => {
  let text = `apiVersion: digestpin.dev/v1alpha1
kind: Pins
pins:
  "busybox:1.36": # quoted key
    # why this one
    digest: ${A}
    pinnedBy: alice
    reason: first
    platforms: {linux/amd64: ${digest("1")}}
    history: []
    # trailing note
  other:1: ${C}
`;
  text = approvePin(text, KEY, {
    ...approval(B, "2026-11-02T00:00:00Z", "bob", "second"),
    platforms: { "linux/arm64": digest("2") },
  });
  text = approvePin(text, KEY, approval(C, "2026-11-03T00:00:00Z", "carol", "third"));
  const pin = pinOf(text);
  t.like(pin, { digest: C, pinnedAt: "2026-11-03T00:00:00Z", pinnedBy: "carol", reason: "third" });
  t.is(pin?.platforms, undefined, "platforms belong to the digest they were recorded for");
  t.deepEqual(pin?.history, [
    {
      digest: B,
      pinnedAt: "2026-11-02T00:00:00Z",
      pinnedBy: "bob",
      reason: "second",
      replacedAt: "2026-11-03T00:00:00Z",
      replacedBy: "carol",
      replaceReason: "third",
    },
    {
      digest: A,
      pinnedBy: "alice",
      reason: "first",
      replacedAt: "2026-11-02T00:00:00Z",
      replacedBy: "bob",
      replaceReason: "second",
    },
  ]);
  t.true(text.includes('  "busybox:1.36": # quoted key\n    # why this one\n    digest: '));
  t.true(text.includes("    # trailing note\n  other:1: "));
  t.is(text.match(/# trailing note/g)?.length, 1, "a comment is never duplicated");
  t.is(pinOf(text, "docker.io/library/other:1")?.digest, C);
});

test("a tag that is not pinned there is refused", (t) => {
  const text = `apiVersion: digestpin.dev/v1alpha1\nkind: Pins\npins:\n  other:1: ${C}\n`;
  t.throws(() => approvePin(text, KEY, approval(B, "2026-11-26T10:00:00Z", "bob", "x")), {
    message: `${KEY} is not pinned here`,
  });
});
