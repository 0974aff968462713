import {
  ApiException,
  CoreV1Api,
  KubernetesObjectApi,
  type KubernetesObject,
} from "@kubernetes/client-node";
import test from "ava";
import { httpGet } from "../harness/kube-launch.ts";
import { sharedControlPlane } from "../harness/kube-shared.ts";
import { pinnedVersion } from "../harness/tool-versions.ts";

// The bare API server, as envtest runs it: the harness itself creates `default` ServiceAccounts.
const controlPlane = sharedControlPlane(test, { controllerManager: false });

test("the API server stores a ConfigMap and returns it to the client and to kubectl", async (t) => {
  const cluster = controlPlane();
  const namespace = await cluster.namespace(t, "configmap");
  const created: KubernetesObject = await KubernetesObjectApi.makeApiClient(
    cluster.kubeConfig,
  ).create({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "settings", namespace },
    data: { greeting: "hello" },
  });
  t.truthy(created.metadata?.uid);

  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  const read = await core.readNamespacedConfigMap({ name: "settings", namespace });
  t.deepEqual(read.data, { greeting: "hello" });
  t.is(read.metadata?.uid, created.metadata?.uid);
  const printed = await cluster.kubectl([
    "get",
    "configmap/settings",
    `--namespace=${namespace}`,
    "--output=jsonpath={.data.greeting}",
  ]);
  t.deepEqual(printed, { stdout: "hello", stderr: "", exitCode: 0 });
});

test("a Pod created with kubectl is stored with the namespace's default ServiceAccount", async (t) => {
  const cluster = controlPlane();
  const namespace = await cluster.namespace(t, "pod");
  const applied = await cluster.kubectl(["apply", `--namespace=${namespace}`, "-f", "-"], {
    input: podYaml("web"),
  });
  t.is(applied.exitCode, 0, applied.stderr);
  t.is(applied.stdout, "pod/web created\n");

  const pod = await cluster.kubeConfig
    .makeApiClient(CoreV1Api)
    .readNamespacedPod({ name: "web", namespace });
  t.is(pod.spec?.containers[0]?.image, "registry.example/web:1.0");
  // The ServiceAccount admission plugin ran: it set the account and mounted its token.
  t.is(pod.spec?.serviceAccountName, "default");
  t.true(pod.spec?.volumes?.some((volume) => volume.name.startsWith("kube-api-access-")));
  t.is(pod.status?.phase, "Pending"); // no scheduler, no kubelet
});

test("ServiceAccount admission is on: no default ServiceAccount, no Pod", async (t) => {
  const objects = KubernetesObjectApi.makeApiClient(controlPlane().kubeConfig);
  const namespace = { apiVersion: "v1", kind: "Namespace", metadata: { name: "no-accounts" } };
  await objects.create(namespace);
  t.teardown(() => objects.delete(namespace).then(() => undefined));

  const error = await t.throwsAsync(
    objects.create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web", namespace: "no-accounts" },
      spec: { containers: [{ name: "web", image: "web:1" }] },
    }),
    { instanceOf: ApiException },
  );
  t.is(error.code, 403);
  t.like(JSON.parse((error as ApiException<string>).body), {
    reason: "Forbidden",
    message:
      `pods "web" is forbidden: error looking up service account no-accounts/default: ` +
      `serviceaccount "default" not found`,
  });
});

test("the token file's admin is in system:masters; other callers are refused", async (t) => {
  const cluster = controlPlane();
  const namespaces = `${cluster.url}/api/v1/namespaces`;
  const ca = cluster.caPem;
  t.is((await httpGet(namespaces, { ca, token: cluster.token })).status, 200);
  t.is((await httpGet(namespaces, { ca, token: "not-the-token" })).status, 401);
  t.is((await httpGet(namespaces, { ca })).status, 403); // system:anonymous, no RBAC grant
  const canI = await cluster.kubectl(["auth", "can-i", "*", "*", "--all-namespaces"]);
  t.deepEqual(canI, { stdout: "yes\n", stderr: "", exitCode: 0 });
});

test("kubectl and the API server are the pinned Kubernetes version", async (t) => {
  const printed = await controlPlane().kubectl(["version", "--output=json"]);
  t.is(printed.exitCode, 0, printed.stderr);
  const versions = JSON.parse(printed.stdout);
  t.is(versions.clientVersion.gitVersion, await pinnedVersion("kubectl"));
  t.is(versions.serverVersion.gitVersion, await pinnedVersion("kube-apiserver"));
});

function podYaml(name: string): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  containers:
    - name: ${name}
      image: registry.example/${name}:1.0
`;
}
