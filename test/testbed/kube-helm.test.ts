import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CoreV1Api } from "@kubernetes/client-node";
import test from "ava";
import { parseAllDocuments } from "yaml";
import { createHelm } from "../harness/helm.ts";
import { sharedControlPlane } from "../harness/kube-shared.ts";
import { tempDir, type Teardown } from "../harness/lifecycle.ts";
import { pinnedVersion } from "../harness/tool-versions.ts";

const controlPlane = sharedControlPlane(test);

test("helm is the pinned version", async (t) => {
  const helm = await createHelm(t);
  const version = await helm(["version", "--template={{ .Version }}"]);
  t.deepEqual(version, { stdout: await pinnedVersion("helm"), stderr: "", exitCode: 0 });
});

test("helm template renders a chart", async (t) => {
  const helm = await createHelm(t);
  const chart = await writeChart(t);
  const rendered = await helm(["template", "demo", chart, "--set=greeting=hi"]);
  t.is(rendered.exitCode, 0, rendered.stderr);
  const documents = parseAllDocuments(rendered.stdout).map(
    (document) => document.toJS() as unknown,
  );
  t.deepEqual(documents, [
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "demo-settings", labels: { chart: "tiny-0.1.0" } },
      // Without a cluster, helm assumes the Kubernetes of the client-go it was built with.
      data: { greeting: "hi", kubeVersion: "v1.37.0" },
    },
  ]);
});

test("helm install puts the chart into the control plane from the kubeconfig", async (t) => {
  const cluster = controlPlane();
  const namespace = await cluster.namespace(t, "helm");
  const helm = await createHelm(t, { kubeconfigPath: cluster.kubeconfigPath });
  const installed = await helm([
    "install",
    "demo",
    await writeChart(t),
    `--namespace=${namespace}`,
  ]);
  t.is(installed.exitCode, 0, installed.stderr);
  t.regex(installed.stdout, /^STATUS: deployed$/m);

  const configMap = await cluster.kubeConfig
    .makeApiClient(CoreV1Api)
    .readNamespacedConfigMap({ name: "demo-settings", namespace });
  t.deepEqual(configMap.data, {
    greeting: "hello",
    kubeVersion: await pinnedVersion("kube-apiserver"),
  });
  const listed = await helm(["list", `--namespace=${namespace}`, "--short"]);
  t.is(listed.stdout, "demo\n");
});

/** A one-template chart in a temp dir. */
async function writeChart(t: Teardown): Promise<string> {
  const chart = join(await tempDir(t, "chart"), "tiny");
  await mkdir(join(chart, "templates"), { recursive: true });
  await writeFile(
    join(chart, "Chart.yaml"),
    "apiVersion: v2\nname: tiny\nversion: 0.1.0\nkubeVersion: '>=1.30.0-0'\n",
  );
  await writeFile(join(chart, "values.yaml"), "greeting: hello\n");
  await writeFile(
    join(chart, "templates", "configmap.yaml"),
    `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
  labels:
    chart: {{ .Chart.Name }}-{{ .Chart.Version }}
data:
  greeting: {{ .Values.greeting | quote }}
  kubeVersion: {{ .Capabilities.KubeVersion.Version }}
`,
  );
  return chart;
}
