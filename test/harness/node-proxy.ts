import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { httpGet, launchReady, type Launch, type Started } from "./kube-launch.ts";
import { toolPath } from "./tools.ts";

export interface KubeProxyOptions {
  readonly dir: string;
  readonly nodeName: string;
  readonly podCidr: string;
  readonly kubeconfigPath: string;
  readonly launch: Launch;
}

const HEALTHZ_PORT = 10256;

/**
 * kube-proxy in iptables mode, as on a kubeadm node: Service ClusterIPs (the `kubernetes`
 * Service the Pods' in-cluster configuration names, the webhook's Service the API server
 * calls) work inside the node's network namespace, whose iptables are its own. It leaves the
 * machine's conntrack limits alone.
 */
export async function startKubeProxy(options: KubeProxyOptions): Promise<Started> {
  const command = await toolPath("kube-proxy");
  const configFile = join(options.dir, "kube-proxy.yaml");
  await writeFile(
    configFile,
    stringify({
      apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
      kind: "KubeProxyConfiguration",
      mode: "iptables",
      clientConnection: { kubeconfig: options.kubeconfigPath },
      hostnameOverride: options.nodeName,
      clusterCIDR: options.podCidr,
      healthzBindAddress: `127.0.0.1:${HEALTHZ_PORT}`,
      metricsBindAddress: "127.0.0.1:10249",
      conntrack: {
        maxPerCore: 0,
        min: 0,
        tcpEstablishedTimeout: "0s",
        tcpCloseWaitTimeout: "0s",
      },
    }),
  );
  return launchReady(options.launch, () =>
    Promise.resolve({
      name: "kube-proxy",
      command,
      args: [`--config=${configFile}`, "--v=1"],
      logFile: join(options.dir, "kube-proxy.log"),
      probe: async () => {
        const { status } = await httpGet(`http://127.0.0.1:${HEALTHZ_PORT}/healthz`);
        return status === 200;
      },
    }),
  );
}
