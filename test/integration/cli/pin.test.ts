import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { tempDir } from "../../harness/testbed.ts";
import { readConfigMapData } from "../../harness/kube-configmaps.ts";
import {
  cli,
  configMapPins,
  digestpin,
  inCluster,
  putPolicy,
  sharedTestbed,
  storePins,
} from "./testbed.ts";

// `digestpin pin` against the testbed registry and API server.

const testbed = sharedTestbed(test);
const POLICY = `apiVersion: digestpin.dev/v1alpha1
kind: Policy
# pins reviewed by the platform team
pins: {}
`;

test("pin resolves an index and records its digest, platforms, who, when and why, in digestpin's pin store", async (t) => {
  const bed = testbed();
  const namespace = await bed.cluster.namespace(t, "pin");
  await putPolicy(bed, namespace, POLICY);
  const ref = bed.registry.ref("team/web:1.0");
  const pushed = await bed.crane.pushIndex(ref, ["linux/amd64", "linux/arm64"]);
  const before = new Date();
  const run = await digestpin(bed, [
    "pin",
    ref,
    "--reason",
    "release 1.0",
    ...inCluster(bed, namespace),
  ]);
  t.is(run.status, 0, run.stderr);
  t.deepEqual(run.lines, [`pinned  ${ref} ${pushed.digest}`]);
  t.regex(
    run.stderr,
    /1 pinned, 0 unchanged, 0 refused, 0 failed \(configmap .*\/digestpin-pins-000\)/,
  );

  const { pins } = await storePins(bed, namespace);
  const pin = pins.get(ref);
  t.is(pin?.digest, pushed.digest);
  t.is(pin?.pinnedBy, "tester@ci");
  t.is(pin?.reason, "release 1.0");
  t.true(Date.parse(pin?.pinnedAt ?? "") >= before.getTime() - 1000);
  t.deepEqual(pin?.platforms, {
    "linux/amd64": pushed.manifests[0]?.digest,
    "linux/arm64": pushed.manifests[1]?.digest,
  });
  t.is((await configMapPins(bed, namespace)).text, POLICY, "the policy is never written");
});

test("pinning again is unchanged; after a repush it is refused and points at approve", async (t) => {
  const bed = testbed();
  const namespace = await bed.cluster.namespace(t, "again");
  await putPolicy(bed, namespace, POLICY);
  const ref = bed.registry.ref("team/api:2.0");
  const first = await bed.crane.pushRandomImage(ref);
  t.is((await digestpin(bed, ["pin", ref, ...inCluster(bed, namespace)])).status, 0);

  const again = await digestpin(bed, ["pin", ref, ...inCluster(bed, namespace)]);
  t.is(again.status, 0);
  t.deepEqual(again.lines, [`unchanged  ${ref} ${first.digest}`]);

  const moved = await bed.crane.repush(ref);
  const refused = await digestpin(bed, ["pin", ref, ...inCluster(bed, namespace)]);
  t.is(refused.status, 1);
  t.regex(
    refused.stdout,
    new RegExp(
      `^refused    ${escape(ref)}: pinned to ${first.digest} \\(pinned at .* by tester@ci\\), not ${moved.digest}`,
    ),
  );
  t.true(
    refused.stdout.includes(`'digestpin approve ${ref} --digest ${moved.digest} --reason "…"'`),
  );
  t.is((await storePins(bed, namespace)).pins.get(ref)?.digest, first.digest);
});

test("--dry-run shows what would be pinned and changes nothing", async (t) => {
  const bed = testbed();
  const namespace = await bed.cluster.namespace(t, "dry");
  await putPolicy(bed, namespace, POLICY);
  const ref = bed.registry.ref("team/dry:1");
  const pushed = await bed.crane.pushRandomImage(ref);
  const run = await digestpin(bed, ["pin", ref, "--dry-run", ...inCluster(bed, namespace)]);
  t.is(run.status, 0, run.stderr);
  t.deepEqual(run.lines, [`would pin  ${ref} ${pushed.digest}`]);
  t.regex(run.stderr, /dry run: nothing changed in configmap .*\/digestpin-pins-000/);
  t.is((await configMapPins(bed, namespace)).text, POLICY);
  t.is(await readConfigMapData(bed.cluster.kubeConfig, namespace, "digestpin-pins-000"), undefined);
});

test("pin -f pins every image of a manifest directory, with progress, into a policy file", async (t) => {
  const bed = testbed();
  const dir = await tempDir(t, "pin-manifests");
  const refs = Array.from({ length: 6 }, (_, i) => bed.registry.ref(`team/svc${i}:v1`));
  const digests = await Promise.all(
    refs.map(async (ref) => (await bed.crane.pushRandomImage(ref)).digest),
  );
  const containers = refs
    .map((image, i) => `      - name: c${i}\n        image: ${image}\n`)
    .join("");
  await writeFile(
    join(dir, "deploy.yaml"),
    `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: svc}\nspec:\n  template:\n    spec:\n      containers:\n${containers}`,
  );
  const policyFile = join(await tempDir(t, "pin-policy"), "policy.yaml");
  await writeFile(policyFile, POLICY);
  const run = await digestpin(bed, ["pin", "-f", dir, "--policy", policyFile, "--reason", "bulk"]);
  t.is(run.status, 0, run.stderr);
  t.is(run.lines.length, 6);
  t.regex(run.stderr, /resolving 6\/6/);
  const text = await readFile(policyFile, "utf8");
  refs.forEach((ref, i) => {
    t.true(text.includes(`${ref}:\n    digest: ${digests[i]}`), ref);
  });
  t.true(
    text.startsWith(
      "apiVersion: digestpin.dev/v1alpha1\nkind: Policy\n# pins reviewed by the platform team\n",
    ),
  );
});

test("pin and approve edit a ConfigMap manifest kept in Git in place: the rest of the file stays byte for byte", async (t) => {
  const bed = testbed();
  const ref = bed.registry.ref("team/gitops:1.0");
  const first = await bed.crane.pushRandomImage(ref);
  const manifest = `# owned by Argo CD; pins reviewed in pull requests
apiVersion: v1
kind: ConfigMap
metadata:
  name: digestpin-policy
  namespace: digestpin-system
  labels: {app.kubernetes.io/managed-by: argocd}
data:
  policy.yaml: |
    apiVersion: digestpin.dev/v1alpha1
    kind: Policy
    # pins reviewed by the platform team
    pins: {}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-a}
`;
  const file = join(await tempDir(t, "gitops"), "policy-configmap.yaml");
  await writeFile(file, manifest);
  const pinned = await digestpin(bed, ["pin", ref, "--policy", file, "--reason", "release"]);
  t.is(pinned.status, 0, pinned.stderr);
  const afterPin = await readFile(file, "utf8");
  t.true(afterPin.startsWith(manifest.slice(0, manifest.indexOf("    pins: {}"))));
  t.true(afterPin.endsWith(manifest.slice(manifest.indexOf("---"))));
  t.true(afterPin.includes(`    pins:\n      ${ref}:\n        digest: ${first.digest}`), afterPin);

  const moved = await bed.crane.repush(ref);
  const approve = [
    "approve",
    ref,
    "--digest",
    moved.digest,
    "--reason",
    "reviewed",
    "--policy",
    file,
  ];
  const approved = await digestpin(bed, approve);
  t.is(approved.status, 0, approved.stderr);
  const afterApprove = await readFile(file, "utf8");
  t.true(afterApprove.includes(`        digest: ${moved.digest}`));
  t.true(afterApprove.endsWith(manifest.slice(manifest.indexOf("---"))));
  const valid = await cli(bed, ["policy", "validate", file]);
  t.is(valid.status, 0, valid.stderr);
});

test("pin reports references it cannot pin and exits 1", async (t) => {
  const bed = testbed();
  const namespace = await bed.cluster.namespace(t, "bad");
  await putPolicy(bed, namespace, POLICY);
  const missing = bed.registry.ref("team/missing:1");
  const run = await digestpin(bed, ["pin", missing, "Not_A_Ref", ...inCluster(bed, namespace)]);
  t.is(run.status, 1);
  t.regex(run.stderr, /team\/missing:1: .*not found/);
  t.regex(run.stderr, /Not_A_Ref: /);
  t.regex(run.stderr, /0 pinned, 0 unchanged, 0 refused, 2 failed/);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
