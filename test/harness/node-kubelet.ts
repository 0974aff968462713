import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { httpGet, launchReady, type Launch, type Started } from "./kube-launch.ts";
import { toolPath } from "./tools.ts";

export interface KubeletOptions {
  /** The kubelet's root directory and files. */
  readonly dir: string;
  readonly nodeName: string;
  /** The node's address: the kubelet listens there and reports it as InternalIP. */
  readonly address: string;
  /** Pods' cgroups go below this (cgroupfs driver), not below the machine's /kubepods. */
  readonly cgroupRoot: string;
  readonly runtimeEndpoint: string;
  readonly kubeconfigPath: string;
  readonly launch: Launch;
}

/** The kubelet's /healthz (loopback of the node's namespace). */
const HEALTHZ_PORT = 10248;

/**
 * A kubelet v1.36 on a cgroup v1 host: `failCgroupV1: false` (1.35 and later refuse v1
 * otherwise), the cgroupfs driver as containerd's runc uses it, swap tolerated, and everything it
 * keeps under `dir` and `cgroupRoot`. It authenticates as the testbed's admin (no TLS
 * bootstrap) and serves its API to anyone who reaches the node's namespace.
 */
export async function startKubelet(options: KubeletOptions): Promise<Started> {
  const { dir } = options;
  const command = await toolPath("kubelet");
  await mkdir(join(dir, "root"), { recursive: true });
  const configFile = join(dir, "kubelet.yaml");
  await writeFile(configFile, stringify(kubeletConfiguration(options)));
  return launchReady(
    options.launch,
    () =>
      Promise.resolve({
        name: "kubelet",
        command,
        args: [
          `--config=${configFile}`,
          `--kubeconfig=${options.kubeconfigPath}`,
          `--root-dir=${join(dir, "root")}`,
          `--cert-dir=${join(dir, "pki")}`,
          `--hostname-override=${options.nodeName}`,
          `--node-ip=${options.address}`,
          "--v=1",
        ],
        logFile: join(dir, "kubelet.log"),
        probe: async () => {
          const { status } = await httpGet(`http://127.0.0.1:${HEALTHZ_PORT}/healthz`);
          return status === 200;
        },
      }),
    180_000,
  );
}

function kubeletConfiguration(options: KubeletOptions): Record<string, unknown> {
  return {
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    failCgroupV1: false,
    cgroupDriver: "cgroupfs",
    cgroupRoot: options.cgroupRoot,
    cgroupsPerQOS: true,
    enforceNodeAllocatable: ["pods"],
    containerRuntimeEndpoint: options.runtimeEndpoint,
    address: options.address,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: "127.0.0.1",
    healthzPort: HEALTHZ_PORT,
    authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
    authorization: { mode: "AlwaysAllow" },
    failSwapOn: false,
    // The machine's disk is shared: evict only when it is nearly full, never for image GC.
    evictionHard: {
      "memory.available": "100Mi",
      "nodefs.available": "2%",
      "imagefs.available": "2%",
      "nodefs.inodesFree": "2%",
    },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    podLogsDir: join(options.dir, "pod-logs"),
    staticPodPath: "",
    serializeImagePulls: false,
    clusterDomain: "cluster.local",
    resolvConf: "/etc/resolv.conf",
    // Pod status reaches the API server quickly, so tests do not wait on the defaults.
    nodeStatusUpdateFrequency: "5s",
    syncFrequency: "10s",
    fileCheckFrequency: "10s",
    containerLogMaxSize: "1Mi",
    maxPods: 50,
  };
}
