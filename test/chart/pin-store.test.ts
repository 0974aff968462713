/**
 * Pins are never lost to Helm: the chart installed into a testbed API server (no kubelet), two
 * tags pinned with the CLI, then `helm upgrade` with a changed policy, a server-side apply of the
 * policy ConfigMap by another field manager (a GitOps sync), `helm uninstall` and a new install:
 * both pins stay in force, in digestpin's pin store, and the policy is what Helm or Git says.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { parse } from "yaml";
import { createHelm } from "../harness/helm.ts";
import { readConfigMapData } from "../harness/kube-configmaps.ts";
import { sharedControlPlane, teardownList } from "../harness/kube-shared.ts";
import { createCrane, startRegistry } from "../harness/testbed.ts";
import { runCli } from "../helpers/run-cli.ts";
import { CHART_DIR } from "./chart.ts";

const controlPlane = sharedControlPlane(test, { controllerManager: false });
const suite = teardownList();
test.after.always(() => suite.run());

test("pins recorded by digestpin survive helm upgrade, a GitOps sync of the policy, uninstall and reinstall", async (t) => {
  const cluster = controlPlane();
  const [ns, registry, home] = await Promise.all([
    cluster.namespace(suite, "digestpin"),
    startRegistry(suite, { auth: "none" }),
    mkdtemp(join(tmpdir(), "digestpin-chart-home-")),
  ]);
  suite.teardown(() => rm(home, { recursive: true, force: true }));
  const crane = await createCrane(suite, registry);
  const helm = await createHelm(suite, { kubeconfigPath: cluster.kubeconfigPath });
  const web = registry.ref("shop/web:1.4");
  const api = registry.ref("shop/api:3.1");
  const [webPushed, apiPushed] = await Promise.all([
    crane.pushRandomImage(web),
    crane.pushRandomImage(api),
  ]);
  const digestpin = (args: readonly string[]) =>
    runCli([...args, "--kubeconfig", cluster.kubeconfigPath, "--namespace", ns], {
      HOME: home,
      USER: "alice",
      HOSTNAME: "laptop",
    });
  /** The pins in force, as `digestpin pins list -o json` reads them: key → [digest, where]. */
  const pinsInForce = async (): Promise<Record<string, [string, string[]]>> => {
    const listed = await digestpin(["pins", "list", "-o", "json"]);
    t.is(listed.status, 0, listed.stderr);
    const pins = JSON.parse(listed.stdout) as { key: string; digest: string; in: string[] }[];
    return Object.fromEntries(pins.map((pin) => [pin.key, [pin.digest, pin.in]]));
  };
  const policyText = async () =>
    (await readConfigMapData(cluster.kubeConfig, ns, "digestpin-policy"))?.["policy.yaml"] ?? "";
  const store = `configmap ${ns}/digestpin-pins-000`;
  const expected = {
    [web]: [webPushed.digest, [store]],
    [api]: [apiPushed.digest, [store]],
  };

  const installed = await helm(["install", "digestpin", CHART_DIR, `--namespace=${ns}`]);
  t.is(installed.exitCode, 0, installed.stderr);
  const pinned = await digestpin([
    "pin",
    web,
    api,
    "--reason",
    "release",
    "--ca-file",
    registry.caFile,
  ]);
  t.is(pinned.status, 0, pinned.stderr);
  t.regex(pinned.stderr, new RegExp(`2 pinned, 0 unchanged, 0 refused, 0 failed \\(${store}\\)`));
  t.deepEqual(await pinsInForce(), expected);
  t.false((await policyText()).includes(web), "the policy ConfigMap Helm owns is not written");

  // helm upgrade with a changed policy.document: Helm replaces policy.yaml, the pins stay.
  const upgraded = await helm([
    "upgrade",
    "digestpin",
    CHART_DIR,
    `--namespace=${ns}`,
    "--reuse-values",
    "--set=policy.document.mode=warn",
  ]);
  t.is(upgraded.exitCode, 0, upgraded.stderr);
  t.like(parse(await policyText()), { mode: "warn" });
  t.deepEqual(await pinsInForce(), expected, "after helm upgrade");

  // A GitOps sync: another field manager applies the policy ConfigMap server-side.
  const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: digestpin-policy\n  namespace: ${ns}\ndata:\n  policy.yaml: |\n    apiVersion: digestpin.dev/v1alpha1\n    kind: Policy\n    mode: audit\n`;
  const synced = await cluster.kubectl(
    ["apply", "--server-side", "--force-conflicts", "--field-manager=argocd", "-f", "-"],
    { input: manifest },
  );
  t.is(synced.exitCode, 0, synced.stderr);
  t.like(parse(await policyText()), { mode: "audit" });
  t.deepEqual(await pinsInForce(), expected, "after a server-side apply by another manager");

  // helm uninstall keeps the store; a new install finds every pin.
  const removed = await helm(["uninstall", "digestpin", `--namespace=${ns}`]);
  t.is(removed.exitCode, 0, removed.stderr);
  const shard = await readConfigMapData(cluster.kubeConfig, ns, "digestpin-pins-000");
  t.truthy(shard?.["pins.yaml"]?.includes(webPushed.digest), "uninstall keeps the pin store");
  await cluster.kubectl(["delete", "configmap", "digestpin-policy", `--namespace=${ns}`]);
  const reinstalled = await helm(["install", "digestpin", CHART_DIR, `--namespace=${ns}`]);
  t.is(reinstalled.exitCode, 0, reinstalled.stderr);
  t.deepEqual(await pinsInForce(), expected, "after uninstall and a new install");
  const again = await helm(["uninstall", "digestpin", `--namespace=${ns}`]);
  t.is(again.exitCode, 0, again.stderr);
});
