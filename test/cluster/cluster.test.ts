/**
 * digestpin in a cluster with a real node: its image (make image) pulled by digest and run as
 * the chart's Deployment, the API server calling it through its Service, Pods pulled and run
 * by the digests it pins. One node for the whole file (`make cluster` runs it in the node's
 * network namespace), so the scenarios run in order.
 */
import test from "ava";
import { attackScenario } from "./attack.ts";
import { sharedCluster, SYSTEM_NAMESPACE, RELEASE } from "./cluster-suite.ts";
import { drainScenario } from "./drain.ts";
import { imageContents } from "./image-contents.ts";
import {
  imageIds,
  podYaml,
  repositoryOf,
  runningPods,
  untilAdmitted,
  waitRunning,
} from "./pods.ts";
import { upgradeScenario } from "./upgrade.ts";

const env = sharedCluster(test);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

test.serial(
  "digestpin runs as the chart's Deployment: 2 replicas of the image by digest, non-root, read-only root, certificates bootstrapped",
  async (t) => {
    const { core, deployed, node, timings, cluster, crane } = env();
    t.log(
      `node Ready in ${seconds(timings.nodeMs)} (containerd ${seconds(node.timings.containerdMs)}, ` +
        `kubelet ${seconds(node.timings.kubeletMs)}); image pushed in ${seconds(timings.pushMs)}; ` +
        `helm install to 2 ready replicas in ${seconds(timings.installMs)}`,
    );
    const pods = await runningPods(core, SYSTEM_NAMESPACE, `app.kubernetes.io/instance=${RELEASE}`);
    t.is(pods.length, 2);
    for (const pod of pods) {
      t.is(pod.spec?.nodeName, node.name);
      const container = pod.spec!.containers[0]!;
      t.is(container.image, deployed.image); // repository:version@digest, as the chart renders it
      t.deepEqual(imageIds(pod), [`${deployed.repository}@${deployed.digest}`]);
      t.true(pod.status?.containerStatuses?.[0]?.ready);
      t.is(pod.status?.containerStatuses?.[0]?.restartCount, 0);
      t.true(container.securityContext?.readOnlyRootFilesystem);
      t.true(container.securityContext?.runAsNonRoot);
      t.is(pod.spec?.securityContext?.runAsUser, 65532);
    }
    // Self-managed certificates: the first replica wrote the CA into both webhooks.
    const webhooks = await cluster.kubectl([
      "get",
      "mutatingwebhookconfigurations,validatingwebhookconfigurations",
      "-o",
      "jsonpath={range .items[*]}{.metadata.name}={.webhooks[0].clientConfig.caBundle}{'\\n'}{end}",
    ]);
    const bundles = webhooks.stdout.trim().split("\n");
    t.true(bundles.length >= 2, webhooks.stdout + webhooks.stderr);
    for (const line of bundles) t.regex(line, /^[\w.-]+=\S{100,}$/);

    // The image itself: non-root, no development dependency, no npm, no build secret.
    const contents = await imageContents(crane, `${deployed.repository}@${deployed.digest}`);
    t.is(contents.user, "65532:65532");
    t.deepEqual(contents.devDependenciesPresent, []);
    t.deepEqual(contents.dependenciesMissing, []);
    t.deepEqual(contents.buildLeftovers, []);
    t.log(
      `image ${deployed.digest}: ${contents.layers} layers, ${(contents.compressedBytes / 1e6).toFixed(1)} MB compressed, ` +
        `${(contents.unpackedBytes / 1e6).toFixed(1)} MB unpacked`,
    );
  },
);

test.serial(
  "a Pod with a pinned tag is admitted through the Service, runs, and its imageID is the pin",
  async (t) => {
    const { shell, images, registry, core } = env();
    const namespace = "pinned";
    t.is((await shell.kubectl(["create", "namespace", namespace])).exitCode, 0);
    const image = registry.ref("team/app:1.0");
    const pushed = await images.push(image, { layers: [{ "srv/app.txt": "1.0\n" }] });
    const pin = await shell.digestpin([
      "pin",
      image,
      "--reason",
      "reviewed 1.0",
      "--ca-file",
      "registry-ca.pem",
    ]);
    t.is(pin.exitCode, 0, pin.output);
    await shell.write("app-1.yaml", podYaml("app-1", image));
    // Both replicas watch the policy ConfigMap: the pin is in force within moments.
    await untilAdmitted(shell, namespace, "app-1.yaml");
    const created = await shell.kubectl(["apply", "-n", namespace, "-f", "app-1.yaml"]);
    t.is(created.output, "pod/app-1 created\n");
    const pod = await waitRunning(core, namespace, "app-1");
    t.is(pod.spec?.containers[0]?.image, `${image}@${pushed.digest}`);
    t.deepEqual(imageIds(pod), [`${repositoryOf(image)}@${pushed.digest}`]);
  },
);

test.serial("the seed attack replayed in-cluster", async (t) => {
  await attackScenario(t, env());
});

test.serial("helm upgrade of digestpin under a steady stream of Pod creations", async (t) => {
  await upgradeScenario(t, env());
});

test.serial("drain: the PodDisruptionBudget keeps a replica, admission continues", async (t) => {
  await drainScenario(t, env());
});
