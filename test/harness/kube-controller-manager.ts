import { join } from "node:path";
import { freePort } from "./ports.ts";
import { httpGet, launchReady, type Launch, type Started } from "./kube-launch.ts";
import { SERVICE_CLUSTER_IP_RANGE, type ControlPlanePki } from "./kube-pki.ts";
import { toolPath } from "./tools.ts";

/**
 * Controllers that need a cloud or a kubelet to do anything useful. The cloud ones are off
 * anyway without `--cloud-provider`; listing them keeps the intent visible.
 */
const DISABLED_CONTROLLERS = [
  "cloud-node-lifecycle-controller",
  "service-lb-controller",
  "node-route-controller",
  "node-ipam-controller",
];

/**
 * kube-controller-manager with every controller that works without nodes: Deployments create
 * ReplicaSets and Pods (which stay Pending: there is no scheduler or kubelet), namespaces get
 * their `default` ServiceAccount and `kube-root-ca.crt`, deleted namespaces are emptied.
 * It talks to the API server as the admin from `kubeconfigPath`.
 */
export async function startControllerManager(
  dir: string,
  kubeconfigPath: string,
  pki: ControlPlanePki,
  launch: Launch,
): Promise<Started> {
  const command = await toolPath("kube-controller-manager");
  return launchReady(launch, async () => {
    const port = await freePort();
    return {
      name: "kube-controller-manager",
      command,
      logFile: join(dir, "kube-controller-manager.log"),
      args: [
        `--kubeconfig=${kubeconfigPath}`,
        `--controllers=*,${DISABLED_CONTROLLERS.map((name) => `-${name}`).join(",")}`,
        "--leader-elect=false",
        "--bind-address=127.0.0.1",
        `--secure-port=${port}`,
        `--cert-dir=${join(dir, "controller-manager-certs")}`,
        `--service-account-private-key-file=${pki.serviceAccountKeyFile}`,
        `--root-ca-file=${pki.caCertFile}`,
        `--cluster-signing-cert-file=${pki.caCertFile}`,
        `--cluster-signing-key-file=${pki.caKeyFile}`,
        `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
        "--use-service-account-credentials=false",
        "--profiling=false",
      ],
      // /healthz is always allowed to anonymous callers; the serving cert is self-signed.
      probe: async () => {
        const { status } = await httpGet(`https://127.0.0.1:${port}/healthz`, { insecure: true });
        return status === 200;
      },
    };
  });
}
