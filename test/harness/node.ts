import { execFile } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { CoreV1Api } from "@kubernetes/client-node";
import type { Crane } from "./crane.ts";
import type { ControlPlane } from "./kube.ts";
import { launchAttached, type Launch } from "./kube-launch.ts";
import { teardownList } from "./kube-shared.ts";
import type { Teardown } from "./lifecycle.ts";
import { startContainerd } from "./node-containerd.ts";
import { nodeImages } from "./node-images.ts";
import { startKubelet } from "./node-kubelet.ts";
import { cniNetworkName, writeCniConfig, type NodeNetwork } from "./node-network.ts";
import { startKubeProxy } from "./node-proxy.ts";
import type { Registry } from "./registry.ts";
import type { Service } from "./service.ts";
import { waitFor } from "./wait.ts";

const netnsScript = fileURLToPath(new URL("../../scripts/node-netns.sh", import.meta.url));

export interface NodeOptions {
  readonly network: NodeNetwork;
  /** Its API server must listen where the Pods reach it (`startControlPlane`'s `node`). */
  readonly cluster: ControlPlane;
  /** Where the node pulls from (its sandbox image too), listening on the node's address. */
  readonly registry: Registry;
  /** crane for that registry, to push the sandbox image. */
  readonly crane: Crane;
  readonly launch?: Launch;
  /** Default `digestpin-node`. */
  readonly name?: string;
}

/** Milliseconds from the first program's start to the node being Ready. */
export interface NodeTimings {
  readonly containerdMs: number;
  readonly kubeletMs: number;
  readonly kubeProxyMs: number;
  readonly readyMs: number;
}

export interface Node {
  readonly name: string;
  /** The node's address (where its Pods reach the API server and the registry). */
  readonly address: string;
  /** containerd, kubelet, kube-proxy. */
  readonly services: readonly Service[];
  readonly timings: NodeTimings;
  /** The sandbox ("pause") image every Pod starts with. */
  readonly sandboxImage: string;
  /** Stops the node's programs and removes their containers, mounts and cgroups; idempotent. */
  stop(): Promise<void>;
}

/**
 * One node, registered with `cluster` and Ready: containerd (runc), kubelet v1.36 and
 * kube-proxy, in the network namespace scripts/node-netns.sh made. Stopping it (on `t`'s
 * teardown) stops them and removes what they left: containers, mounts, the Pods' cgroups.
 */
export async function startNode(t: Teardown, options: NodeOptions): Promise<Node> {
  const { network, cluster, registry } = options;
  const launch = options.launch ?? launchAttached;
  const name = options.name ?? "digestpin-node";
  const dir = join(network.dir, "node");
  await mkdir(dir, { recursive: true });
  const services: Service[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const service of services.toReversed()) await service.stop();
      await cleanNode(network);
    })());
  t.teardown(stop);

  const started = Date.now();
  // Its layer files are not needed once pushed (make testbed-up never runs `t`'s teardown).
  const scratch = teardownList();
  const sandbox = await nodeImages(scratch, options.crane)
    .then((images) => images.push(registry.ref("digestpin-testbed/pause:busybox")))
    .finally(() => scratch.run());
  const sandboxImage = `${sandbox.ref}@${sandbox.digest}`;
  const cniConfDir = join(dir, "cni");
  await writeCniConfig(network, cniConfDir);
  const containerd = await startContainerd({
    dir: join(dir, "containerd"),
    cniConfDir,
    registryHost: registry.host,
    registryCaFile: registry.caFile,
    sandboxImage,
    launch,
  });
  services.push(containerd.service);
  const kubelet = await startKubelet({
    dir: join(dir, "kubelet"),
    nodeName: name,
    address: network.address,
    cgroupRoot: network.cgroupRoot,
    runtimeEndpoint: containerd.endpoint,
    kubeconfigPath: cluster.kubeconfigPath,
    launch,
  });
  services.push(kubelet.service);
  const kubeProxy = await startKubeProxy({
    dir,
    nodeName: name,
    podCidr: network.podCidr,
    kubeconfigPath: cluster.kubeconfigPath,
    launch,
  });
  services.push(kubeProxy.service);
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  await waitFor(
    `node ${name} to be Ready (logs: ${kubelet.service.logFile}, ${containerd.service.logFile})`,
    async () => {
      const node = await core.readNode({ name }).catch(() => undefined);
      const ready = node?.status?.conditions?.find((condition) => condition.type === "Ready");
      return ready?.status === "True" ? true : undefined;
    },
    180_000,
    500,
  );
  return {
    name,
    address: network.address,
    services,
    sandboxImage,
    timings: {
      containerdMs: containerd.readyMs,
      kubeletMs: kubelet.readyMs,
      kubeProxyMs: kubeProxy.readyMs,
      readyMs: Date.now() - started,
    },
    stop,
  };
}

/**
 * What the node's programs leave once stopped: container processes (in its cgroups), runc
 * shims, mounts under its directory, its cgroups, CNI's cache files of its network.
 */
export async function cleanNode(network: NodeNetwork): Promise<void> {
  await promisify(execFile)(netnsScript, [
    "clean",
    network.dir,
    network.cgroupRoot,
    cniNetworkName(network),
  ]);
}
