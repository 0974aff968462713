import test from "ava";
import { putConfigMap } from "../../harness/kube-configmaps.ts";
import {
  configMapPins,
  digestpin,
  inCluster,
  putPolicy,
  sharedTestbed,
  storePins,
} from "./testbed.ts";

// Review a moved tag with `digestpin diff`, accept it with `digestpin approve`.

const testbed = sharedTestbed(test);
const POLICY = "apiVersion: digestpin.dev/v1alpha1\nkind: Policy\npins: {}\n";

test("diff: 0 while the registry serves the pin; after a repush 1, with what changed", async (t) => {
  const bed = testbed();
  const namespace = await bed.cluster.namespace(t, "diff");
  await putPolicy(bed, namespace, POLICY);
  const ref = bed.registry.ref("team/web:1.0");
  const pinned = await bed.crane.pushIndex(ref, ["linux/amd64", "linux/arm64"], { layers: 2 });
  t.is((await digestpin(bed, ["pin", ref, ...inCluster(bed, namespace)])).status, 0);

  const same = await digestpin(bed, ["diff", ref, ...inCluster(bed, namespace)]);
  t.is(same.status, 0, same.stderr);
  t.is(same.lines[0], `${ref}: unchanged, the registry serves the pinned digest`);

  const moved = await bed.crane.repush(ref);
  const diff = await digestpin(bed, ["diff", ref, ...inCluster(bed, namespace)]);
  t.is(diff.status, 1, diff.stderr);
  t.is(diff.lines[0], `${ref}: the tag moved`);
  t.regex(
    diff.lines[1] ?? "",
    new RegExp(`^  pinned    ${pinned.digest}  \\(pinned at .* by tester@ci\\)$`),
  );
  t.is(diff.lines[2], `  registry  ${moved.digest}`);
  for (const [index, platform] of ["linux/amd64", "linux/arm64"].entries()) {
    const block = diff.stdout.split("\n\n").find((part) => part.startsWith(`${platform}\n`)) ?? "";
    t.true(
      block.includes(
        `  manifest  ${pinned.manifests[index]?.digest} → ${moved.manifests[index]?.digest}`,
      ),
      block,
    );
    t.regex(block, / {2}created {3}.+/);
    // repush pushes one new random layer per platform: both old layers are removed.
    t.regex(
      block,
      / {2}layers {4}0 unchanged \(0 B\), 1 added \(\d+\.\d KiB\), 2 removed \(\d+\.\d KiB\)/,
    );
    t.is(
      block.split("\n").filter((line) => /^ {4}\+ sha256:[0-9a-f]{64} {2}\d/.test(line)).length,
      1,
    );
    t.is(
      block.split("\n").filter((line) => /^ {4}- sha256:[0-9a-f]{64} {2}\d/.test(line)).length,
      2,
    );
  }
});

test("diff: a layer shared by both images is unchanged", async (t) => {
  const bed = testbed();
  const namespace = await bed.cluster.namespace(t, "shared");
  await putPolicy(bed, namespace, POLICY);
  const ref = bed.registry.ref("team/files:1");
  await bed.crane.pushFiles(ref, { "etc/app.conf": "version 1\n" });
  t.is((await digestpin(bed, ["pin", ref, ...inCluster(bed, namespace)])).status, 0);
  // Same layer, different config (another platform): only the config and manifest change.
  await bed.crane.pushFiles(ref, { "etc/app.conf": "version 1\n" }, { platform: "linux/arm64" });
  const diff = await digestpin(bed, ["diff", ref, ...inCluster(bed, namespace)]);
  t.is(diff.status, 1, diff.stdout);
  t.regex(diff.stdout, /\nlinux\/amd64 → linux\/arm64\n {2}manifest {2}.*\n {2}config {4}.*\n/);
  t.regex(
    diff.stdout,
    / {2}layers {4}1 unchanged \(\d+ B\), 0 added \(0 B\), 0 removed \(0 B\)\n {4}= sha256:/,
  );
});

test("approve: the new digest is pinned, the old one first in history with who, when, why", async (t) => {
  const bed = testbed();
  const namespace = await bed.cluster.namespace(t, "approve");
  await putPolicy(bed, namespace, POLICY);
  const ref = bed.registry.ref("team/api:3");
  const first = await bed.crane.pushRandomImage(ref);
  await digestpin(bed, ["pin", ref, "--reason", "first release", ...inCluster(bed, namespace)]);
  const second = await bed.crane.repush(ref);
  const approve1 = await digestpin(bed, [
    "approve",
    ref,
    "--reason",
    "diff reviewed",
    ...inCluster(bed, namespace),
  ]);
  t.is(approve1.status, 0, approve1.stderr);
  t.regex(
    approve1.stdout,
    new RegExp(
      `^approved  .*: ${first.digest} → ${second.digest} \\(configmap ${namespace}/digestpin-pins-000\\)`,
    ),
  );
  const third = await bed.crane.repush(ref);
  const approve2 = await digestpin(bed, [
    "approve",
    ref,
    "--digest",
    third.digest,
    "--reason",
    "hotfix",
    "--by",
    "alice",
    ...inCluster(bed, namespace),
  ]);
  t.is(approve2.status, 0, approve2.stderr);

  const pin = (await storePins(bed, namespace)).pins.get(ref);
  t.like(pin, { digest: third.digest, pinnedBy: "alice", reason: "hotfix" });
  t.deepEqual(
    pin?.history.map((h) => [h.digest, h.reason, h.replacedBy, h.replaceReason]),
    [
      [second.digest, "diff reviewed", "alice", "hotfix"],
      [first.digest, "first release", "tester@ci", "diff reviewed"],
    ],
  );
  t.truthy(pin?.history[0]?.replacedAt);

  const again = await digestpin(bed, [
    "approve",
    ref,
    "--reason",
    "again",
    ...inCluster(bed, namespace),
  ]);
  t.is(again.status, 0);
  t.regex(again.stdout, /^unchanged /);
  t.is((await digestpin(bed, ["diff", ref, ...inCluster(bed, namespace)])).status, 0);
});

test("approve edits the pin where digestpin keeps it (here the trust-on-first-use ConfigMap of earlier versions), not the policy", async (t) => {
  const bed = testbed();
  const namespace = await bed.cluster.namespace(t, "holder");
  await putPolicy(bed, namespace, POLICY);
  const ref = bed.registry.ref("team/auto:1");
  const first = await bed.crane.pushRandomImage(ref);
  const pins = `apiVersion: digestpin.dev/v1alpha1\nkind: Pins\n# recorded on first use\npins:\n  ${ref}: ${first.digest} # auto\n`;
  await putConfigMap(
    bed.cluster.kubeConfig,
    namespace,
    "digestpin-pins-auto",
    { "pins.yaml": pins },
    {
      "digestpin.dev/pins": "true",
    },
  );
  const second = await bed.crane.repush(ref);
  const run = await digestpin(bed, [
    "approve",
    ref,
    "--reason",
    "ok",
    ...inCluster(bed, namespace),
  ]);
  t.is(run.status, 0, run.stderr);
  const auto = await configMapPins(bed, namespace, "digestpin-pins-auto", "pins.yaml");
  t.is(auto.pins.get(ref)?.digest, second.digest);
  t.is(auto.pins.get(ref)?.history[0]?.digest, first.digest);
  t.true(
    auto.text.includes(
      `# recorded on first use\npins:\n  ${ref}: # auto\n    digest: ${second.digest}\n`,
    ),
  );
  t.is((await configMapPins(bed, namespace)).text, POLICY, "the policy is untouched");
});

test("approve refuses a tag that is not pinned, and --reason is required", async (t) => {
  const bed = testbed();
  const namespace = await bed.cluster.namespace(t, "refuse");
  await putPolicy(bed, namespace, POLICY);
  const ref = bed.registry.ref("team/none:1");
  await bed.crane.pushRandomImage(ref);
  const missing = await digestpin(bed, ["approve", ref, ...inCluster(bed, namespace)]);
  t.is(missing.status, 2);
  t.regex(missing.stderr, /--reason is required/);
  const unpinned = await digestpin(bed, [
    "approve",
    ref,
    "--reason",
    "x",
    ...inCluster(bed, namespace),
  ]);
  t.is(unpinned.status, 1);
  t.regex(unpinned.stderr, /is not pinned; pin it with 'digestpin pin/);
});
