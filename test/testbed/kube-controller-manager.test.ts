import { AppsV1Api, CoreV1Api, KubernetesObjectApi } from "@kubernetes/client-node";
import test from "ava";
import { residentBytes } from "../harness/kube-launch.ts";
import { sharedControlPlane } from "../harness/kube-shared.ts";
import { waitFor } from "../harness/wait.ts";

const controlPlane = sharedControlPlane(test); // with kube-controller-manager, the default

test("kube-controller-manager turns a Deployment into a ReplicaSet and Pods", async (t) => {
  const cluster = controlPlane();
  const namespace = await cluster.namespace(t, "deployment");
  const applied = await cluster.kubectl(["apply", `--namespace=${namespace}`, "-f", "-"], {
    input: deploymentYaml,
  });
  t.is(applied.stdout, "deployment.apps/web created\n", applied.stderr);

  const apps = cluster.kubeConfig.makeApiClient(AppsV1Api);
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  const pods = await eventually(async () => {
    const list = await core.listNamespacedPod({ namespace, labelSelector: "app=web" });
    return list.items.length === 2 ? list.items : undefined;
  });
  const replicaSets = await apps.listNamespacedReplicaSet({ namespace });
  t.is(replicaSets.items.length, 1);
  const replicaSet = replicaSets.items[0]!;
  t.is(replicaSet.metadata?.ownerReferences?.[0]?.name, "web");
  for (const pod of pods) {
    t.is(pod.metadata?.ownerReferences?.[0]?.name, replicaSet.metadata?.name);
    t.is(pod.spec?.containers[0]?.image, "registry.example/web:1.0");
    t.is(pod.status?.phase, "Pending"); // no scheduler, no kubelet
  }
  const rollout = await eventually(async () => {
    const deployment = await apps.readNamespacedDeployment({ name: "web", namespace });
    return deployment.status?.replicas === 2 ? deployment.status : undefined;
  });
  t.is(rollout.readyReplicas, undefined);
});

test("namespaces get their default ServiceAccount and kube-root-ca.crt, and are finalized", async (t) => {
  const cluster = controlPlane();
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  const objects = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
  const namespace = "bare";
  await objects.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });

  const account = await eventually(async () => {
    const list = await core.listNamespacedServiceAccount({ namespace });
    return list.items.find((item) => item.metadata?.name === "default");
  });
  t.is(account.metadata?.namespace, namespace);
  const rootCa = await eventually(async () => {
    const list = await core.listNamespacedConfigMap({ namespace });
    return list.items.find((item) => item.metadata?.name === "kube-root-ca.crt");
  });
  t.is(rootCa.data?.["ca.crt"], cluster.caPem);

  // The namespace controller empties and removes deleted namespaces.
  await core.deleteNamespace({ name: namespace });
  const gone = () => core.listNamespace({ fieldSelector: `metadata.name=${namespace}` });
  await eventually(async () => ((await gone()).items.length === 0 ? true : undefined));
  t.deepEqual((await gone()).items, []);
});

test("start-up time and memory of the control plane with kube-controller-manager", async (t) => {
  const cluster = controlPlane();
  const { etcdMs, apiServerMs, controllerManagerMs } = cluster.timings;
  t.log(`ready after: etcd ${etcdMs} ms, kube-apiserver ${apiServerMs} ms,`);
  t.log(`             kube-controller-manager ${controllerManagerMs} ms`);
  for (const service of cluster.services) {
    const rss = await residentBytes(service.process.pid);
    t.log(`RSS ${service.name}: ${((rss ?? 0) / 2 ** 20).toFixed(0)} MiB`);
    t.true(rss !== undefined && rss > 0);
  }
  t.true(controllerManagerMs !== undefined);
});

const deploymentYaml = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: web
          image: registry.example/web:1.0
`;

/** Polls `probe` until it returns something, for what controllers do asynchronously. */
const eventually = <T>(probe: () => Promise<T | undefined>): Promise<T> =>
  waitFor("the controller manager", probe, 60_000, 200);
