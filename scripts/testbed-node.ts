/**
 * The node side of `make testbed-up` (in the network namespace scripts/node-netns.sh made for
 * the testbed) and `make testbed-deploy`: digestpin's image pushed to the testbed registry, the
 * chart installed with it by digest.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { KubeConfig } from "@kubernetes/client-node";
import { deployDigestpin, testbedPolicy } from "../test/cluster/deploy.ts";
import { createCrane, type Crane } from "../test/harness/crane.ts";
import { createHelm } from "../test/harness/helm.ts";
import type { ControlPlane } from "../test/harness/kube.ts";
import { teardownList } from "../test/harness/kube-shared.ts";
import { launchDetached } from "../test/harness/launch-detached.ts";
import type { Teardown } from "../test/harness/lifecycle.ts";
import type { NodeNetwork } from "../test/harness/node-network.ts";
import { startNode, type Node } from "../test/harness/node.ts";
import type { Registry } from "../test/harness/registry.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

/** The testbed's node, its programs detached like the control plane's. */
export async function startTestbedNode(
  undo: Teardown,
  network: NodeNetwork,
  cluster: ControlPlane,
  registry: Registry,
): Promise<Node> {
  // crane's files are not needed once the node runs (a successful `up` never runs `undo`).
  const scratch = teardownList();
  try {
    const crane = await createCrane(scratch, registry);
    return await startNode(undo, { network, cluster, registry, crane, launch: launchDetached });
  } finally {
    await scratch.run();
  }
}

/** `make testbed-deploy`: reads the running testbed's settings from `envFile`. */
export async function deployToTestbed(envFile: string): Promise<void> {
  const env = Object.fromEntries(
    (await readFile(envFile, "utf8").catch(() => ""))
      .split("\n")
      .filter((line) => line.includes("="))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  const { KUBECONFIG, DIGESTPIN_TESTBED_REGISTRY, DIGESTPIN_TESTBED_REGISTRY_CA_FILE } = env;
  if (KUBECONFIG === undefined || env.DIGESTPIN_TESTBED_NODE === undefined) {
    throw new Error("the testbed has no node: run make testbed-up first");
  }
  const undo = teardownList();
  try {
    const registry = {
      host: DIGESTPIN_TESTBED_REGISTRY!,
      caFile: DIGESTPIN_TESTBED_REGISTRY_CA_FILE!,
      caPem: await readFile(DIGESTPIN_TESTBED_REGISTRY_CA_FILE!, "utf8"),
      tokenServer: undefined,
    };
    const crane: Crane = await createCrane(undo, registry);
    const helm = await createHelm(undo, { kubeconfigPath: KUBECONFIG });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(KUBECONFIG);
    const deployed = await deployDigestpin({
      t: undo,
      kubeConfig,
      registryHost: registry.host,
      crane,
      helm,
      imageDir: join(root, ".run", "image"),
      policyYaml: testbedPolicy(registry),
      release: "digestpin",
      namespace: "digestpin-system",
    });
    console.log(`digestpin deployed: ${deployed.image}
  image pushed in ${(deployed.pushMs / 1000).toFixed(1)} s; helm install to every replica ready in ${(deployed.installMs / 1000).toFixed(1)} s
  policy: ConfigMap digestpin-system/digestpin-policy (enforce; nothing pinned yet)`);
  } finally {
    await undo.run();
  }
}
