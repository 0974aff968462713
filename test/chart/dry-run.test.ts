import test from "ava";
import { stringify } from "yaml";
import { createHelm } from "../harness/helm.ts";
import { sharedControlPlane } from "../harness/kube-shared.ts";
import {
  CHART_DIR,
  kubectlName,
  renderChart,
  SCENARIOS,
  scenarioFile,
  the,
  valuesArgs,
  type Rendered,
} from "./chart.ts";

// A bare API server: nothing here needs kube-controller-manager.
const controlPlane = sharedControlPlane(test, { controllerManager: false });

/**
 * Kinds whose CRDs (cert-manager, Prometheus Operator) the testbed API server does not have.
 * Only these are left out of the server-side dry-run, and each test proves the server rejects
 * them for that reason alone.
 */
const CRD_KINDS = new Set(["Certificate", "Issuer", "PrometheusRule", "ServiceMonitor"]);

const toYaml = (objects: readonly Rendered[]) =>
  objects.map((object) => stringify(object)).join("---\n");

/** What `kubectl apply --dry-run=server` prints for an object it accepted. */
const accepted = (object: Rendered) => `${kubectlName(object)} created (server dry run)`;

for (const scenario of SCENARIOS) {
  test(`${scenario}: the API server accepts every object (server-side dry-run), without a warning`, async (t) => {
    const cluster = controlPlane();
    const namespace = await cluster.namespace(t, scenario.replace("-values.yaml", ""));
    // Warn (on workloads) and enforce (on Pods) the restricted Pod Security Standard here.
    const labelled = await cluster.kubectl([
      "label",
      "namespace",
      namespace,
      "pod-security.kubernetes.io/enforce=restricted",
      "pod-security.kubernetes.io/warn=restricted",
    ]);
    t.is(labelled.exitCode, 0, labelled.stderr);

    const helm = await createHelm(t);
    const { objects } = await renderChart(helm, { namespace, values: [scenarioFile(scenario)] });
    const served = objects.filter((object) => !CRD_KINDS.has(object.kind));
    const skipped = objects.filter((object) => CRD_KINDS.has(object.kind));

    const applied = await cluster.kubectl(["apply", "--dry-run=server", "-f", "-"], {
      input: toYaml(served),
    });
    t.is(applied.stderr, "", "no error and no warning (Pod Security restricted included)");
    t.is(applied.exitCode, 0);
    t.deepEqual(applied.stdout.trimEnd().split("\n").sort(), served.map(accepted).sort());

    // The skipped objects fail only because their CRDs are missing.
    for (const object of skipped) {
      const rejected = await cluster.kubectl(["apply", "--dry-run=server", "-f", "-"], {
        input: toYaml([object]),
      });
      t.is(rejected.exitCode, 1);
      t.regex(
        rejected.stderr,
        new RegExp(`no matches for kind "${object.kind}" in version "${object.apiVersion}"`),
      );
    }

    // A Pod from the Deployment's template is admitted under the restricted standard (enforce).
    const template = the(objects, "Deployment").spec.template;
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "digestpin-template", namespace, labels: template.metadata.labels },
      spec: { ...template.spec, serviceAccountName: "default" },
    };
    const podApplied = await cluster.kubectl(["apply", "--dry-run=server", "-f", "-"], {
      input: toYaml([pod]),
    });
    t.deepEqual(podApplied, {
      stdout: "pod/digestpin-template created (server dry run)\n",
      stderr: "",
      exitCode: 0,
    });
  });
}

test("NOTES.txt tells what to do next, and says that Pods are denied until digestpin answers", async (t) => {
  const cluster = controlPlane();
  const namespace = await cluster.namespace(t, "notes");
  const helm = await createHelm(t, { kubeconfigPath: cluster.kubeconfigPath });
  const notes = async (values: string[]) => {
    const installed = await helm([
      "install",
      "digestpin",
      CHART_DIR,
      "--dry-run=client",
      ...valuesArgs({ namespace, values }),
    ]);
    t.is(installed.exitCode, 0, installed.stderr);
    return installed.stdout.slice(installed.stdout.indexOf("NOTES:"));
  };

  const selfManaged = await notes([]);
  t.regex(
    selfManaged,
    new RegExp(`kubectl --namespace ${namespace} rollout status deployment/digestpin`),
  );
  t.regex(selfManaged, /empty caBundle/);
  t.regex(selfManaged, /Pods in every other namespace are DENIED \(fail closed\)/);
  t.regex(selfManaged, /mode enforce, unpinned tags: deny, drift: deny/);
  t.regex(selfManaged, /--dry-run=server/);
  t.regex(selfManaged, /keeps the policy ConfigMap/);

  // (cert-manager's branch cannot be installed here, even as a dry-run, without its CRDs;
  // helm lint renders it for every ci/ scenario.)

  const warn = await notes([scenarioFile("warn-mode-values.yaml")]);
  t.regex(warn, /Pods are admitted UNCHECKED/);
  t.regex(warn, /Never checked: Pods in kube-system, \S+, monitoring\./);
  t.regex(warn, /mode warn, unpinned tags: trust-on-first-use/);
});
