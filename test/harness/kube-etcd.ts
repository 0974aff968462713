import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { freePort } from "./ports.ts";
import { httpGet, launchReady, type Launch, type Started } from "./kube-launch.ts";
import { toolPath } from "./tools.ts";

export interface Etcd extends Started {
  /** For `--etcd-servers`, e.g. http://127.0.0.1:41234. */
  readonly clientUrl: string;
}

/**
 * A single-member etcd on 127.0.0.1 (client and peer ports free), with its data in
 * `dir/etcd`. No fsync, as envtest runs it: the data is thrown away with the test.
 */
export async function startEtcd(dir: string, launch: Launch): Promise<Etcd> {
  const command = await toolPath("etcd");
  const dataDir = join(dir, "etcd");
  let clientUrl = "";
  const started = await launchReady(launch, async () => {
    // A fresh data dir per attempt: a member bootstrapped with other peer URLs cannot restart.
    await rm(dataDir, { recursive: true, force: true });
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    clientUrl = `http://127.0.0.1:${await freePort()}`;
    const peerUrl = `http://127.0.0.1:${await freePort()}`;
    return {
      name: "etcd",
      command,
      logFile: join(dir, "etcd.log"),
      args: [
        "--name=testbed",
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=testbed=${peerUrl}`,
        "--initial-cluster-state=new",
        "--unsafe-no-fsync=true",
        "--log-level=warn",
      ],
      probe: async () => {
        const { status, body } = await httpGet(`${clientUrl}/health`);
        return status === 200 && /"health":\s*"true"/.test(body);
      },
    };
  });
  return { ...started, clientUrl };
}
