import { join } from "node:path";
import { freePort } from "./ports.ts";
import { httpGet, launchReady, type Launch, type Started } from "./kube-launch.ts";
import { SERVICE_CLUSTER_IP_RANGE, type ControlPlanePki } from "./kube-pki.ts";
import { toolPath } from "./tools.ts";

export interface ApiServer extends Started {
  /** https://127.0.0.1:PORT */
  readonly url: string;
}

/** Where Pods on a node reach the API server (see `ControlPlaneOptions.node`). */
export interface ApiServerNodeAccess {
  /** The node's address, in a network namespace the test made: the `kubernetes` Service's. */
  readonly advertiseAddress: string;
}

/**
 * kube-apiserver on 127.0.0.1 as envtest starts it (token-file admin in system:masters, RBAC,
 * service-account signing key), except that the ServiceAccount admission plugin stays on, as
 * in real clusters: a namespace needs its `default` ServiceAccount before Pods can be created.
 * Ready when `/readyz` answers 200 to the admin token.
 */
export async function startApiServer(
  dir: string,
  etcdUrl: string,
  pki: ControlPlanePki,
  launch: Launch,
  node?: ApiServerNodeAccess,
): Promise<ApiServer> {
  const command = await toolPath("kube-apiserver");
  let url = "";
  const started = await launchReady(launch, async () => {
    const port = await freePort();
    url = `https://127.0.0.1:${port}`;
    return {
      name: "kube-apiserver",
      command,
      logFile: join(dir, "kube-apiserver.log"),
      args: [
        `--etcd-servers=${etcdUrl}`,
        `--secure-port=${port}`,
        ...(node === undefined
          ? [
              "--bind-address=127.0.0.1",
              "--advertise-address=127.0.0.1",
              // Endpoints may not hold a loopback address: without this the API server logs a
              // failed sync of the `kubernetes` Service's endpoints every 10 s. The Service
              // itself remains.
              "--endpoint-reconciler-type=none",
            ]
          : [
              // Every address of the node's network namespace (made by the test, reachable
              // only from inside it): 127.0.0.1 for the programs, the node's for the Pods,
              // which reach it through the `kubernetes` Service and kube-proxy.
              "--bind-address=0.0.0.0",
              `--advertise-address=${node.advertiseAddress}`,
            ]),
        `--cert-dir=${join(dir, "apiserver-certs")}`,
        `--tls-cert-file=${pki.servingCertFile}`,
        `--tls-private-key-file=${pki.servingKeyFile}`,
        `--client-ca-file=${pki.caCertFile}`,
        `--token-auth-file=${pki.tokenFile}`,
        "--authorization-mode=RBAC",
        `--service-account-key-file=${pki.serviceAccountPublicKeyFile}`,
        `--service-account-signing-key-file=${pki.serviceAccountKeyFile}`,
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
        "--allow-privileged=true",
        "--profiling=false",
      ],
      probe: async () => {
        const { status } = await httpGet(`${url}/readyz`, { ca: pki.caPem, token: pki.adminToken });
        return status === 200;
      },
    };
  });
  return { ...started, url };
}
