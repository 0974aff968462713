import test from "ava";
import { checkPolicyDocument } from "../../../src/policy/document/document.ts";
import { approvePin } from "../../../src/pins/pin-approve.ts";
import { digest, HEADER } from "./fixtures.ts";

// A history entry's review: written by approve --with-diff, read back, validated.

const [A, B] = [digest("a"), digest("b")];
const KEY = "docker.io/library/busybox:1.36";

test("an approval with a review writes it into the replaced digest's history entry", (t) => {
  const text = `${HEADER}pins:\n  busybox:1.36: ${A}\n`;
  const edited = approvePin(text, KEY, {
    digest: B,
    pinnedAt: "2026-11-26T10:00:00Z",
    pinnedBy: "bob",
    reason: "diff reviewed",
    review: {
      summary: "linux/amd64: the pinned image's 1 layer with 1 layer added on top",
      added: 1,
      removed: 1,
      changed: 0,
      paths: ["+ /harmful", "- /harmless"],
    },
  });
  t.true(
    edited.endsWith(`    history:
      - digest: ${A}
        replacedAt: "2026-11-26T10:00:00Z"
        replacedBy: bob
        replaceReason: diff reviewed
        review:
          summary: "linux/amd64: the pinned image's 1 layer with 1 layer added on top"
          added: 1
          removed: 1
          changed: 0
          paths:
            - + /harmful
            - "- /harmless"
`),
    edited,
  );
  const result = checkPolicyDocument(edited, "p");
  t.true(result.ok);
  if (result.ok) {
    t.deepEqual(result.document.pins[0]?.history[0]?.review?.paths, ["+ /harmful", "- /harmless"]);
  }
});

test("a review is validated: counts are whole numbers, paths strings, no other keys", (t) => {
  const result = checkPolicyDocument(
    `${HEADER}pins:
  busybox:1.36:
    digest: ${B}
    history:
      - digest: ${A}
        review:
          added: -1
          removed: many
          paths: [1, "+ /x"]
          seen: yes
`,
    "policy.yaml",
  );
  t.false(result.ok);
  const messages = result.ok ? [] : result.issues.map((i) => `${i.path}: ${i.message}`);
  t.true(
    messages.some((m) => m.includes("review.added: expected a count")),
    messages.join("\n"),
  );
  t.true(messages.some((m) => m.includes("review.removed: expected a count")));
  t.true(messages.some((m) => m.includes("review.paths[0]")));
  t.true(
    messages.some((m) =>
      m.includes(
        'review.seen: unknown key "seen"; expected one of summary, added, removed, changed, paths',
      ),
    ),
  );
});
