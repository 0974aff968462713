import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ApiException, KubernetesObjectApi, type V1Pod } from "@kubernetes/client-node";
import test from "ava";
import { sharedControlPlane } from "../harness/kube-shared.ts";
import { startTestWebhook, type TestWebhook } from "../harness/kube-test-webhook.ts";
import { tempDir, type Teardown } from "../harness/lifecycle.ts";

const controlPlane = sharedControlPlane(test, { controllerManager: false });
const WEBHOOK = "deny-pods.testbed.digestpin.dev";
const DENIAL = "image registry.example/web:1.0 is not pinned";

test("a validating webhook on 127.0.0.1 denies a Pod on kubectl apply --dry-run=server, nothing stored", async (t) => {
  const cluster = controlPlane();
  const namespace = await cluster.namespace(t, "webhook");
  const webhook = await startTestWebhook(t, () => ({
    allowed: false,
    status: { code: 403, reason: "Forbidden", message: DENIAL },
  }));
  const objects = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
  await registerWebhook(t, objects, webhook, namespace);
  const seenBefore = webhook.reviews.length;

  const dir = await tempDir(t, "manifests");
  await writeFile(join(dir, "pod.yaml"), podYaml);
  const applied = await cluster.kubectl(
    ["apply", "--dry-run=server", `--namespace=${namespace}`, "-f", "pod.yaml"],
    { cwd: dir },
  );
  t.deepEqual(applied, {
    stdout: "",
    stderr:
      `Error from server (Forbidden): error when creating "pod.yaml": ` +
      `admission webhook "${WEBHOOK}" denied the request: ${DENIAL}\n`,
    exitCode: 1,
  });

  t.is(webhook.reviews.length, seenBefore + 1);
  const review = webhook.reviews[seenBefore];
  t.like(review, { operation: "CREATE", namespace, dryRun: true });
  t.is((review?.object as V1Pod).spec?.containers[0]?.image, "registry.example/web:1.0");

  const read = objects.read({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web", namespace },
  });
  t.like(await t.throwsAsync(read, { instanceOf: ApiException }), { code: 404 });
  const got = await cluster.kubectl(["get", "pod/web", `--namespace=${namespace}`]);
  t.deepEqual(got, {
    stdout: "",
    stderr: `Error from server (NotFound): pods "web" not found\n`,
    exitCode: 1,
  });
});

const podYaml = `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: web
      image: registry.example/web:1.0
`;

/**
 * A ValidatingWebhookConfiguration for Pod creation in `namespace` only (it is cluster-wide),
 * calling `webhook` by URL. Returns once the API server calls it: it picks configurations up
 * from an informer a moment after they are created, so dry-run creates (which store nothing)
 * probe until the webhook answers.
 */
async function registerWebhook(
  t: Teardown,
  objects: KubernetesObjectApi,
  webhook: TestWebhook,
  namespace: string,
): Promise<void> {
  const configuration = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: { name: `deny-pods-${namespace}` },
    webhooks: [
      {
        name: WEBHOOK,
        clientConfig: { url: webhook.url, caBundle: Buffer.from(webhook.caPem).toString("base64") },
        rules: [
          { operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] },
        ],
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
        sideEffects: "None", // lets the API server call it on dry-run requests
        admissionReviewVersions: ["v1"],
        failurePolicy: "Fail",
        timeoutSeconds: 5,
      },
    ],
  };
  await objects.create(configuration);
  t.teardown(() => objects.delete(configuration).then(() => undefined));

  const probe = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "probe", namespace },
    spec: { containers: [{ name: "probe", image: "probe" }] },
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await objects.create(probe, undefined, "All");
    } catch (error) {
      if (error instanceof ApiException && JSON.stringify(error.body).includes(WEBHOOK)) return;
      throw error;
    }
    if (Date.now() > deadline) throw new Error("the webhook configuration never took effect");
    await sleep(100);
  }
}
