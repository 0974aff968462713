import { readFile } from "node:fs/promises";
import test from "ava";
import { checkPolicyDocument } from "../../../src/policy/document/document.ts";
import { pushLayered } from "../../harness/layered-images.ts";
import { digestpin, policyFile, reviewTestbed } from "./testbed.ts";

// `digestpin approve --with-diff`: the policy keeps what was reviewed with the old digest.

const testbed = reviewTestbed(test);

test("approve --with-diff records the file summary in the replaced digest's history entry", async (t) => {
  const bed = testbed();
  const ref = bed.registry.ref("martes13/harmless:1.0");
  const pinned = await pushLayered(t, bed.crane, ref, {
    layers: [[{ path: "harmless", content: "" }]],
  });
  const policy = await policyFile(bed, { [ref]: pinned });
  const moved = await pushLayered(t, bed.crane, ref, {
    base: `${ref}@${pinned}`,
    layers: [[{ path: "harmful", content: "" }]],
  });
  const run = await digestpin(bed, policy, [
    "approve",
    ref,
    "--with-diff",
    "--reason",
    "reviewed: adds /harmful (expected)",
  ]);
  t.is(run.status, 0, run.stderr);
  t.regex(run.stdout, new RegExp(`^approved {2}.*: ${pinned} → ${moved} `));
  t.regex(
    run.stdout,
    /\nreviewed {2}1 added, 0 removed, 0 changed: \+ \/harmful \(linux\/amd64: the pinned image's 1 layer with 1 layer added on top\)\n$/,
  );
  const text = await readFile(policy, "utf8");
  const parsed = checkPolicyDocument(text, "policy.yaml");
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const pin = parsed.document.pins.find((p) => p.key === ref);
  t.is(pin?.digest, moved);
  t.deepEqual(pin?.history[0]?.review, {
    summary: "linux/amd64: the pinned image's 1 layer with 1 layer added on top",
    added: 1,
    removed: 0,
    changed: 0,
    paths: ["+ /harmful"],
  });
  t.true(
    text.includes(
      `        replaceReason: "reviewed: adds /harmful (expected)"\n        review:\n          summary: "linux/amd64: the pinned image's 1 layer with 1 layer added on top"\n          added: 1\n          removed: 0\n          changed: 0\n          paths:\n            - + /harmful\n`,
    ),
    text,
  );
  // The next approval keeps the earlier review where it is.
  const again = await pushLayered(t, bed.crane, ref, {
    base: `${ref}@${moved}`,
    layers: [[{ type: "whiteout", path: "harmless" }]],
  });
  const second = await digestpin(bed, policy, ["approve", ref, "--with-diff", "--reason", "ok"]);
  t.is(second.status, 0, second.stderr);
  const after = checkPolicyDocument(await readFile(policy, "utf8"), "policy.yaml");
  if (!after.ok) throw new Error(JSON.stringify(after.issues));
  const history = after.document.pins.find((p) => p.key === ref)?.history ?? [];
  t.deepEqual(
    history.map((h) => [h.digest, h.review?.paths]),
    [
      [moved, ["- /harmless"]],
      [pinned, ["+ /harmful"]],
    ],
  );
  t.is(after.document.pins.find((p) => p.key === ref)?.digest, again);
});

test("approve without --with-diff downloads no layer; --platform needs --with-diff", async (t) => {
  const bed = testbed();
  const ref = bed.registry.ref("team/plain:1");
  const pinned = await pushLayered(t, bed.crane, ref, { layers: [[{ path: "a", content: "1" }]] });
  const policy = await policyFile(bed, { [ref]: pinned });
  await pushLayered(t, bed.crane, ref, { layers: [[{ path: "a", content: "2" }]] });
  const run = await digestpin(bed, policy, ["approve", ref, "--reason", "fine"]);
  t.is(run.status, 0, run.stderr);
  t.false(run.stdout.includes("reviewed"));
  t.false((await readFile(policy, "utf8")).includes("review:"));
  const usage = await digestpin(bed, policy, [
    "approve",
    ref,
    "--reason",
    "x",
    "--platform",
    "linux/amd64",
  ]);
  t.is(usage.status, 2);
  t.regex(usage.stderr, /--platform needs --with-diff/);
});
