import { join } from "node:path";
import { freePort } from "./ports.ts";
import { httpGet, launchReady, type Launch, type Started } from "./kube-launch.ts";
import { toolPath } from "./tools.ts";

/**
 * kube-scheduler, for a control plane with a node (without one there is nothing to schedule
 * to). It talks to the API server as the admin from `kubeconfigPath`.
 */
export async function startScheduler(
  dir: string,
  kubeconfigPath: string,
  launch: Launch,
): Promise<Started> {
  const command = await toolPath("kube-scheduler");
  return launchReady(launch, async () => {
    const port = await freePort();
    return {
      name: "kube-scheduler",
      command,
      logFile: join(dir, "kube-scheduler.log"),
      args: [
        `--kubeconfig=${kubeconfigPath}`,
        `--authentication-kubeconfig=${kubeconfigPath}`,
        `--authorization-kubeconfig=${kubeconfigPath}`,
        "--leader-elect=false",
        "--bind-address=127.0.0.1",
        `--secure-port=${port}`,
        `--cert-dir=${join(dir, "scheduler-certs")}`,
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
