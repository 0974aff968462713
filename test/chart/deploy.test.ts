import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { DEPLOY_DIR, DEPLOY_NAMESPACE, renderDeploy } from "../../scripts/render-deploy.ts";
import { createHelm } from "../harness/helm.ts";
import { sharedControlPlane } from "../harness/kube-shared.ts";
import { toolPath } from "../harness/tools.ts";
import { runCommand } from "../harness/run-command.ts";
import { kubectlName, parseObjects, renderChart, type Rendered } from "./chart.ts";

const controlPlane = sharedControlPlane(test, { controllerManager: false });

const REGENERATE = "deploy/ is stale: run `make deploy-manifests` (scripts/render-deploy.ts)";

test("deploy/ is exactly a fresh rendering of the chart's defaults", async (t) => {
  const expected = await renderDeploy();
  const present = (await readdir(DEPLOY_DIR)).filter((name) => name.endsWith(".yaml")).sort();
  t.deepEqual(present, [...expected.keys()].sort(), REGENERATE);
  for (const [name, content] of expected) {
    t.is(await readFile(join(DEPLOY_DIR, name), "utf8"), content, `${name}: ${REGENERATE}`);
  }
});

const identity = (object: Rendered) => `${object.kind}/${object.metadata.name}`;
const byIdentity = (objects: readonly Rendered[]) =>
  [...objects].sort((a, b) => identity(a).localeCompare(identity(b)));

test("kustomize builds the chart's default objects in digestpin-system, plus its Namespace (restricted)", async (t) => {
  const built = await runCommand(await toolPath("kubectl"), ["kustomize", DEPLOY_DIR]);
  t.is(built.exitCode, 0, built.stderr);
  const objects = parseObjects(built.stdout);
  const chart = await renderChart(await createHelm(t), { namespace: DEPLOY_NAMESPACE });
  const namespace = objects.find((object) => object.kind === "Namespace");
  t.deepEqual(namespace?.metadata, {
    name: DEPLOY_NAMESPACE,
    labels: {
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/warn": "restricted",
    },
  });
  t.deepEqual(
    byIdentity(objects.filter((object) => object.kind !== "Namespace")),
    byIdentity(chart.objects),
  );
});

test("kubectl apply -k deploy/ installs into a cluster, which then fails closed", async (t) => {
  const cluster = controlPlane();
  const applied = await cluster.kubectl(["apply", "-k", DEPLOY_DIR]);
  t.is(applied.exitCode, 0, applied.stderr);
  t.is(applied.stderr, "");
  const objects = parseObjects(
    (await runCommand(await toolPath("kubectl"), ["kustomize", DEPLOY_DIR])).stdout,
  );
  t.deepEqual(
    applied.stdout.trimEnd().split("\n").sort(),
    objects.map((object) => `${kubectlName(object)} created`).sort(),
  );

  const other = await cluster.namespace(t, "apps");
  const pod = `apiVersion: v1\nkind: Pod\nmetadata: {name: try}\nspec: {containers: [{name: app, image: busybox:1.36}]}\n`;
  const deadline = Date.now() + 10_000;
  let tried;
  do {
    tried = await cluster.kubectl(
      ["apply", "--dry-run=server", `--namespace=${other}`, "-f", "-"],
      {
        input: pod,
      },
    );
  } while (tried.exitCode === 0 && Date.now() < deadline);
  t.regex(tried.stderr, /failed calling webhook "mutate\.digestpin\.dev"/);
});
