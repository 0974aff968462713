/**
 * The in-cluster testbed of test/cluster: a control plane, the registry and one node in the
 * network namespace `make cluster` runs the tests in; digestpin's image (from `make image`)
 * pushed there and the chart installed with it by digest, certificates self-managed.
 */
import { AppsV1Api, CoreV1Api, KubernetesObjectApi } from "@kubernetes/client-node";
import { fileURLToPath } from "node:url";
import { createShell, type Shell } from "../harness/e2e-shell.ts";
import { createHelm, type Helm } from "../harness/helm.ts";
import { startControlPlane, type ControlPlane } from "../harness/kube.ts";
import { teardownList, type SuiteHooks } from "../harness/kube-shared.ts";
import { nodeImages, type NodeImages, type RunnableImage } from "../harness/node-images.ts";
import { requireNodeNetwork } from "../harness/node-network.ts";
import { startNode, type Node } from "../harness/node.ts";
import { createCrane, startRegistry, type Crane, type Registry } from "../harness/testbed.ts";
import { deployDigestpin, testbedPolicy, type Deployed } from "./deploy.ts";

export const RELEASE = "digestpin";
export const SYSTEM_NAMESPACE = "digestpin-system";
const IMAGE_DIR = fileURLToPath(new URL("../../.run/image", import.meta.url));

export interface Cluster {
  readonly cluster: ControlPlane;
  readonly registry: Registry;
  readonly crane: Crane;
  readonly node: Node;
  readonly images: NodeImages;
  readonly helm: Helm;
  /** kubectl and the digestpin CLI as a person would run them. */
  readonly shell: Shell;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly objects: KubernetesObjectApi;
  readonly deployed: Deployed;
  /** The policy document the chart was installed with. */
  readonly policyYaml: string;
  /** Pinned in that document: what the admission streams create Pods of. */
  readonly streamImage: RunnableImage;
  /** Milliseconds: node start (to Ready), image push, chart install (to 2 ready replicas). */
  readonly timings: {
    readonly nodeMs: number;
    readonly pushMs: number;
    readonly installMs: number;
  };
}

/** Starts everything in `test.before`, stops it in `test.after.always`. */
export function sharedCluster(test: SuiteHooks): () => Cluster {
  const suite = teardownList();
  let shared: Cluster | undefined;
  test.before(async () => {
    const network = requireNodeNetwork();
    const [cluster, registry] = await Promise.all([
      startControlPlane(suite, { node: { advertiseAddress: network.address } }),
      startRegistry(suite, { auth: "none", address: network.address }),
    ]);
    const crane = await createCrane(suite, registry);
    const nodeStarted = Date.now();
    const node = await startNode(suite, { network, cluster, registry, crane });
    const nodeMs = Date.now() - nodeStarted;
    const [images, helm, shell] = await Promise.all([
      nodeImages(suite, crane),
      createHelm(suite, { kubeconfigPath: cluster.kubeconfigPath }),
      createShell(suite, cluster),
    ]);
    await shell.write("registry-ca.pem", registry.caPem);
    // Pinned in the policy the chart is installed with, so that every `helm upgrade` with the
    // same values keeps it in force: the image of the admission streams.
    const streamImage = await images.push(registry.ref("stream/app:1.0"));
    const policyYaml = testbedPolicy(registry, { [streamImage.ref]: streamImage.digest });
    const deployed = await deployDigestpin({
      t: suite,
      kubeConfig: cluster.kubeConfig,
      registryHost: registry.host,
      crane,
      helm,
      imageDir: IMAGE_DIR,
      policyYaml,
      release: RELEASE,
      namespace: SYSTEM_NAMESPACE,
    });
    shared = {
      cluster,
      registry,
      crane,
      node,
      images,
      helm,
      shell,
      core: cluster.kubeConfig.makeApiClient(CoreV1Api),
      apps: cluster.kubeConfig.makeApiClient(AppsV1Api),
      objects: KubernetesObjectApi.makeApiClient(cluster.kubeConfig),
      deployed,
      policyYaml,
      streamImage,
      timings: { nodeMs, pushMs: deployed.pushMs, installMs: deployed.installMs },
    };
  });
  test.after.always(() => suite.run());
  return () => {
    if (shared === undefined) throw new Error("the in-cluster testbed did not start");
    return shared;
  };
}
