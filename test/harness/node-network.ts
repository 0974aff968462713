import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * The network namespace scripts/node-netns.sh made for a node, and the names it chose: a node
 * runs only inside one (`make cluster` runs the tests there, `make testbed-up` the testbed).
 */
export interface NodeNetwork {
  /** The namespace's name (`ip netns`). */
  readonly netns: string;
  /** Where the node's files go; scripts/node-netns.sh removes it and unmounts what is in it. */
  readonly dir: string;
  /** The kubelet's cgroup root: the node's Pods run below it. */
  readonly cgroupRoot: string;
  /** The node's address: the bridge the Pods join, where they reach the node's servers. */
  readonly address: string;
  /** The Pods' addresses. */
  readonly podCidr: string;
}

const VARIABLES = {
  netns: "DIGESTPIN_NODE_NETNS",
  dir: "DIGESTPIN_NODE_DIR",
  cgroupRoot: "DIGESTPIN_NODE_CGROUP",
  address: "DIGESTPIN_NODE_IP",
  podCidr: "DIGESTPIN_POD_CIDR",
} as const;

/** The namespace this process runs in, or undefined outside one. */
export function nodeNetwork(env: NodeJS.ProcessEnv = process.env): NodeNetwork | undefined {
  const entries = Object.entries(VARIABLES).map(([key, name]) => [key, env[name] ?? ""] as const);
  if (entries.some(([, value]) => value === "")) return undefined;
  return Object.fromEntries(entries) as unknown as NodeNetwork;
}

/** Like `nodeNetwork()`, failing with how to get one. */
export function requireNodeNetwork(): NodeNetwork {
  const network = nodeNetwork();
  if (network === undefined) {
    throw new Error(
      "a node runs only in the network namespace scripts/node-netns.sh makes: run `make cluster` " +
        "(or scripts/node-netns.sh run -- COMMAND)",
    );
  }
  return network;
}

/** The CNI network's name: unique per node, so CNI's cache files of one never meet another's. */
export const cniNetworkName = (network: NodeNetwork): string => network.netns;

/**
 * The Pods' network: the CNI bridge plugin on the node's bridge (cni0, which already holds the
 * node's address), host-local addresses from the Pod range with their state under the node's
 * directory, and a default route through the node. No masquerade: nothing leaves the namespace.
 */
export async function writeCniConfig(network: NodeNetwork, confDir: string): Promise<void> {
  await mkdir(confDir, { recursive: true });
  const config = {
    cniVersion: "1.0.0",
    name: cniNetworkName(network),
    plugins: [
      {
        type: "bridge",
        bridge: "cni0",
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: "host-local",
          ranges: [[{ subnet: network.podCidr, gateway: network.address }]],
          routes: [{ dst: "0.0.0.0/0" }],
          dataDir: join(network.dir, "cni", "ipam"),
        },
      },
    ],
  };
  await writeFile(join(confDir, "10-digestpin.conflist"), `${JSON.stringify(config, null, 2)}\n`);
}
