import test from "ava";
import { putConfigMap, readConfigMapData } from "../../harness/kube-configmaps.ts";
import {
  cli,
  configMapPins,
  digestpin,
  inCluster,
  putPolicy,
  sharedTestbed,
  storePins,
} from "./testbed.ts";

// digestpin's pin store from the CLI: pins it records go there, pins kept in the policy are
// changed there (in Git), `pins migrate` moves them into the store, `pins list` and `remove`.

const testbed = sharedTestbed(test);
const HEADER = "apiVersion: digestpin.dev/v1alpha1\nkind: Policy\n";

/** The policy ConfigMap as Helm leaves it: labelled managed-by Helm. */
const putHelmPolicy = (bed: ReturnType<typeof testbed>, namespace: string, text: string) =>
  putConfigMap(
    bed.cluster.kubeConfig,
    namespace,
    "digestpin-policy",
    { "policy.yaml": text },
    { "app.kubernetes.io/managed-by": "Helm" },
  );

test("a pin kept in a policy ConfigMap Helm manages is not digestpin's to approve; pins migrate moves it into the store, then approve works", async (t) => {
  const bed = testbed();
  const namespace = await bed.cluster.namespace(t, "migrate");
  const ref = bed.registry.ref("team/api:1");
  const auto = bed.registry.ref("team/auto:1");
  const [first, autoPushed] = await Promise.all([
    bed.crane.pushRandomImage(ref),
    bed.crane.pushRandomImage(auto),
  ]);
  const policy = `${HEADER}mode: enforce # kept in Git\npins:\n  ${ref}:\n    digest: ${first.digest}\n    pinnedBy: gitops\n    history:\n      - digest: sha256:${"0".repeat(64)}\n        replacedBy: bob\n`;
  await putHelmPolicy(bed, namespace, policy);
  await putConfigMap(
    bed.cluster.kubeConfig,
    namespace,
    "digestpin-pins-auto",
    {
      "pins.yaml": `apiVersion: digestpin.dev/v1alpha1\nkind: Pins\npins:\n  ${auto}: ${autoPushed.digest}\n`,
    },
    { "digestpin.dev/pins": "true" },
  );
  const second = await bed.crane.repush(ref);
  const refused = await digestpin(bed, [
    "approve",
    ref,
    "--reason",
    "ok",
    ...inCluster(bed, namespace),
  ]);
  t.is(refused.status, 1);
  t.is(
    refused.stderr,
    `digestpin approve: ${ref} is pinned in configmap ${namespace}/digestpin-policy, which Helm ` +
      `manages: a change made here would be undone at its next sync; change the pin where Helm ` +
      `takes it from (values, Git), or move such pins into digestpin's pin store with ` +
      `'digestpin pins migrate' and run this again\n`,
  );

  const dry = await cli(bed, ["pins", "migrate", "--dry-run", ...inCluster(bed, namespace)]);
  t.is(dry.status, 0, dry.stderr);
  t.deepEqual(dry.lines, [
    `would move  1 pin from configmap ${namespace}/digestpin-policy`,
    `would move  1 pin from configmap ${namespace}/digestpin-pins-auto`,
    `into  configmap ${namespace}/digestpin-pins-000`,
    `would delete  configmap ${namespace}/digestpin-pins-auto`,
  ]);
  t.is((await configMapPins(bed, namespace)).text, policy, "a dry run changes nothing");

  const moved = await cli(bed, ["pins", "migrate", ...inCluster(bed, namespace)]);
  t.is(moved.status, 0, moved.stderr);
  t.regex(moved.stderr, /Remove these pins from the policy kept in Git/);
  const store = await storePins(bed, namespace);
  t.like(store.pins.get(ref), { digest: first.digest, pinnedBy: "gitops" });
  t.is(store.pins.get(ref)?.history[0]?.replacedBy, "bob", "the history moves along");
  t.is(store.pins.get(auto)?.digest, autoPushed.digest);
  t.is(
    (await configMapPins(bed, namespace)).text,
    `${HEADER}mode: enforce # kept in Git\npins: {}\n`,
  );
  t.is(
    await readConfigMapData(bed.cluster.kubeConfig, namespace, "digestpin-pins-auto"),
    undefined,
  );

  const approved = await digestpin(bed, [
    "approve",
    ref,
    "--reason",
    "ok",
    ...inCluster(bed, namespace),
  ]);
  t.is(approved.status, 0, approved.stderr);
  t.regex(approved.stdout, new RegExp(`\\(configmap ${namespace}/digestpin-pins-000\\)`));
  t.is((await storePins(bed, namespace)).pins.get(ref)?.digest, second.digest);
  const again = await cli(bed, ["pins", "migrate", ...inCluster(bed, namespace)]);
  t.deepEqual(again.lines, ["nothing to migrate: every pin is in digestpin's pin store already"]);
});

test("pins list shows every pin in force and where it is kept; filters; table, json and yaml", async (t) => {
  const bed = testbed();
  const namespace = await bed.cluster.namespace(t, "list");
  const [web, api] = ["team/web:1", "other/api:2"].map((name) => bed.registry.ref(name));
  const [webPushed, apiPushed] = await Promise.all([
    bed.crane.pushRandomImage(web!),
    bed.crane.pushRandomImage(api!),
  ]);
  await putPolicy(bed, namespace, `${HEADER}pins:\n  ${api}: ${apiPushed.digest}\n`);
  t.is(
    (await digestpin(bed, ["pin", web!, "--reason", "r", ...inCluster(bed, namespace)])).status,
    0,
  );

  const table = await cli(bed, ["pins", "list", ...inCluster(bed, namespace)]);
  t.is(table.status, 0, table.stderr);
  t.regex(table.lines[0] ?? "", /^KEY +DIGEST +PINNED AT +PINNED BY +IN$/);
  t.true(
    table.lines.some(
      (line) =>
        line.startsWith(`${api}  `) && line.endsWith(`configmap ${namespace}/digestpin-policy`),
    ),
  );
  t.true(
    table.lines.some(
      (line) =>
        line.startsWith(`${web}  `) &&
        line.includes("tester@ci") &&
        line.endsWith(`configmap ${namespace}/digestpin-pins-000`),
    ),
  );

  const json = await cli(bed, [
    "pins",
    "list",
    "-o",
    "json",
    "--repository",
    "team/web",
    ...inCluster(bed, namespace),
  ]);
  const listed = JSON.parse(json.stdout) as { key: string; digest: string; in: string[] }[];
  t.deepEqual(
    listed.map((p) => [p.key, p.digest, p.in]),
    [[web, webPushed.digest, [`configmap ${namespace}/digestpin-pins-000`]]],
  );

  const yaml = await cli(bed, [
    "pins",
    "list",
    "-o",
    "yaml",
    "--tag",
    "2",
    ...inCluster(bed, namespace),
  ]);
  t.true(yaml.stdout.startsWith(`- key: ${api}\n  digest: ${apiPushed.digest}\n`), yaml.stdout);
  const bare = await cli(bed, [
    "pins",
    "list",
    "--no-headers",
    "--registry",
    "nowhere.example",
    ...inCluster(bed, namespace),
  ]);
  t.deepEqual([bare.status, bare.stdout], [0, ""]);
  const bad = await cli(bed, ["pins", "list", "-o", "xml", ...inCluster(bed, namespace)]);
  t.is(bad.status, 2);
});

test("pins remove takes a store pin out of force and keeps it in its history; a pin Helm manages is refused", async (t) => {
  const bed = testbed();
  const namespace = await bed.cluster.namespace(t, "remove");
  const [gone, kept] = ["team/gone:1", "team/kept:1"].map((name) => bed.registry.ref(name));
  const [gonePushed, keptPushed] = await Promise.all([
    bed.crane.pushRandomImage(gone!),
    bed.crane.pushRandomImage(kept!),
  ]);
  await putHelmPolicy(bed, namespace, `${HEADER}pins:\n  ${kept}: ${keptPushed.digest}\n`);
  t.is(
    (await digestpin(bed, ["pin", gone!, "--reason", "r", ...inCluster(bed, namespace)])).status,
    0,
  );
  const noReason = await cli(bed, ["pins", "remove", gone!, ...inCluster(bed, namespace)]);
  t.deepEqual([noReason.status, noReason.stderr.includes("--reason is required")], [2, true]);
  const removed = await cli(bed, [
    "pins",
    "remove",
    gone!,
    "--reason",
    "retired",
    "--by",
    "alice",
    ...inCluster(bed, namespace),
  ]);
  t.is(removed.status, 0, removed.stderr);
  t.deepEqual(removed.lines, [`removed  ${gone}`]);
  const store = await storePins(bed, namespace);
  t.false(store.pins.has(gone!));
  t.regex(
    store.text,
    new RegExp(
      `removed:\\n  ${gone!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\n    history:\\n      - digest: ${gonePushed.digest}\\n`,
    ),
  );
  t.regex(store.text, /replacedBy: alice\n\s+replaceReason: retired\n/);
  const listed = await cli(bed, ["pins", "list", "-o", "json", ...inCluster(bed, namespace)]);
  t.deepEqual(
    (JSON.parse(listed.stdout) as { key: string }[]).map((p) => p.key),
    [kept],
  );

  const refused = await cli(bed, [
    "pins",
    "remove",
    kept!,
    "--reason",
    "x",
    ...inCluster(bed, namespace),
  ]);
  t.is(refused.status, 1);
  t.regex(
    refused.stderr,
    /is pinned in configmap .*\/digestpin-policy, which Helm manages: a change made here would be undone/,
  );
  const unknown = await cli(bed, [
    "pins",
    "remove",
    bed.registry.ref("team/none:1"),
    "--reason",
    "x",
    ...inCluster(bed, namespace),
  ]);
  t.is(unknown.status, 1);
  t.regex(unknown.stderr, /is not pinned/);
});

test("the policy ConfigMap replaced by a sync (another field manager, server-side) keeps the store's pins", async (t) => {
  const bed = testbed();
  const namespace = await bed.cluster.namespace(t, "sync");
  const ref = bed.registry.ref("team/sync:1");
  const pushed = await bed.crane.pushRandomImage(ref);
  await putPolicy(bed, namespace, `${HEADER}mode: warn\n`);
  t.is((await digestpin(bed, ["pin", ref, ...inCluster(bed, namespace)])).status, 0);
  const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: digestpin-policy\n  namespace: ${namespace}\ndata:\n  policy.yaml: |\n    apiVersion: digestpin.dev/v1alpha1\n    kind: Policy\n    mode: enforce\n`;
  const applied = await bed.cluster.kubectl(
    ["apply", "--server-side", "--force-conflicts", "--field-manager", "argocd", "-f", "-"],
    { input: manifest },
  );
  t.is(applied.exitCode, 0, applied.stderr);
  t.is((await configMapPins(bed, namespace)).text, `${HEADER}mode: enforce\n`);
  t.is((await storePins(bed, namespace)).pins.get(ref)?.digest, pushed.digest);
});
