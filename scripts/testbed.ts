/**
 * A testbed for people: `make testbed-up` starts the programs the tests use, in the background,
 * and prints how to reach them; `make testbed-down` stops them and removes .testbed/. Run in the
 * network namespace scripts/node-netns.sh makes (as the Makefile does), it adds a node and the
 * API server and registry listen where its Pods reach them; `make testbed-deploy` then installs
 * digestpin there.   Usage: node --import tsx scripts/testbed.ts up|down|deploy
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startControlPlane, type ControlPlane } from "../test/harness/kube.ts";
import { teardownList } from "../test/harness/kube-shared.ts";
import { launchDetached } from "../test/harness/launch-detached.ts";
import { startRegistry, type Registry } from "../test/harness/registry.ts";
import type { Teardown } from "../test/harness/lifecycle.ts";
import { nodeNetwork, type NodeNetwork } from "../test/harness/node-network.ts";
import { cleanNode } from "../test/harness/node.ts";
import { toolPath } from "../test/harness/tools.ts";
import { deployToTestbed, startTestbedNode } from "./testbed-node.ts";
import { isRunning, readProcesses, recordProcesses, stopProcesses } from "./testbed-processes.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const testbedDir = join(root, ".testbed");
const pidsFile = join(testbedDir, "pids");
const envFile = join(testbedDir, "env");

type Env = Record<string, string>;

async function up(): Promise<void> {
  const running = await Promise.all((await readProcesses(pidsFile)).map(isRunning));
  if (running.includes(true)) {
    console.log(`The testbed is already up (make testbed-down stops it):\n`);
    console.log(await readFile(envFile, "utf8").catch(() => ""));
    return;
  }
  const network = nodeNetwork();
  if (network !== undefined) await cleanNode(network); // what a crashed node left
  await rm(testbedDir, { recursive: true, force: true });
  await mkdir(testbedDir, { recursive: true });
  const started = Date.now();
  const undo = teardownList();
  try {
    const controlPlane = await startControlPlane(undo, {
      dir: join(testbedDir, "kube"),
      launch: launchDetached,
      controllerManager: true,
      ...(network !== undefined && { node: { advertiseAddress: network.address } }),
    });
    const registry = await startRegistrySide(undo, testbedDir, network);
    const node =
      network === undefined
        ? undefined
        : await startTestbedNode(undo, network, controlPlane, registry.registry);
    await recordProcesses(pidsFile, [
      ...[...controlPlane.services, ...(node?.services ?? [])].map((service) => ({
        pid: service.process.pid!,
        name: service.name,
      })),
      { pid: registry.pid, name: "registry" },
    ]);
    const env = {
      ...(await controlPlaneEnv(controlPlane)),
      ...registry.env,
      ...(node !== undefined &&
        network !== undefined && {
          DIGESTPIN_TESTBED_NODE: node.name,
          DIGESTPIN_TESTBED_NETNS: network.netns,
        }),
    };
    await writeFile(
      envFile,
      Object.entries(env)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(""),
    );
    printUsage(controlPlane, env, Date.now() - started);
  } catch (error) {
    await undo.run(); // stop whatever did start
    throw error;
  }
}

/**
 * An anonymous registry (TLS, the testbed's own CA) for images pushed with crane. Returns what
 * it adds to .testbed/env; its pid joins the pids file.
 */
async function startRegistrySide(
  undo: Teardown,
  dir: string,
  network: NodeNetwork | undefined,
): Promise<{ env: Env; pid: number; registry: Registry }> {
  const registryDir = join(dir, "registry");
  await mkdir(registryDir, { recursive: true });
  const registry = await startRegistry(undo, {
    auth: "none",
    dir: registryDir,
    launch: launchDetached,
    ...(network !== undefined && { address: network.address }),
  });
  return {
    registry,
    pid: registry.pid ?? 0,
    env: {
      DIGESTPIN_TESTBED_REGISTRY: registry.host,
      DIGESTPIN_TESTBED_REGISTRY_CA_FILE: registry.caFile,
      SSL_CERT_FILE: registry.caFile,
      CRANE: await toolPath("crane"),
    },
  };
}

async function controlPlaneEnv(controlPlane: ControlPlane): Promise<Env> {
  const caFile = join(controlPlane.dir, "ca.crt");
  return {
    KUBECONFIG: controlPlane.kubeconfigPath,
    DIGESTPIN_TESTBED_KUBE_URL: controlPlane.url,
    DIGESTPIN_TESTBED_KUBE_CA_FILE: caFile,
    KUBECTL: await toolPath("kubectl"),
    HELM: await toolPath("helm"),
  };
}

function printUsage(controlPlane: ControlPlane, env: Env, elapsedMs: number): void {
  const kubectlDir = env.KUBECTL!.replace(/\/kubectl$/, "");
  const helmDir = env.HELM!.replace(/\/helm$/, "");
  const logs = controlPlane.services.map((service) => `    ${service.logFile}`).join("\n");
  console.log(`Testbed up in ${(elapsedMs / 1000).toFixed(1)} s: ${controlPlane.services
    .map((service) => `${service.name} (pid ${service.process.pid})`)
    .join(", ")}.
Kubernetes API server: ${controlPlane.url} (admin token in the kubeconfig)
Registry: https://${env.DIGESTPIN_TESTBED_REGISTRY} (anonymous; CA ${env.DIGESTPIN_TESTBED_REGISTRY_CA_FILE})

${
  env.DIGESTPIN_TESTBED_NETNS === undefined
    ? ""
    : `Node: ${env.DIGESTPIN_TESTBED_NODE} (containerd, kubelet, kube-proxy), Ready. Everything listens in
the network namespace ${env.DIGESTPIN_TESTBED_NETNS}, where Pods reach the registry above too.
    make testbed-deploy       # digestpin's image (make image) pushed there, installed by digest
    ip netns exec ${env.DIGESTPIN_TESTBED_NETNS} bash   # a shell there, for what follows
`
}
Use it from a shell:
    export KUBECONFIG=${controlPlane.kubeconfigPath}
    export PATH=${kubectlDir}:${helmDir}:$PATH   # the testbed's kubectl and helm
    kubectl get ns
    SSL_CERT_FILE=${env.DIGESTPIN_TESTBED_REGISTRY_CA_FILE} ${env.CRANE} \\
      append -f layer.tar -t ${env.DIGESTPIN_TESTBED_REGISTRY}/demo/app:1.0   # push an image
    bin/digestpin resolve --ca-file ${env.DIGESTPIN_TESTBED_REGISTRY_CA_FILE} ${env.DIGESTPIN_TESTBED_REGISTRY}/demo/app:1.0
or load every setting:   set -a; . ${envFile}; set +a

Logs:
${logs}
Stop it with:   make testbed-down`);
}

async function down(): Promise<void> {
  const processes = await readProcesses(pidsFile);
  const killed = await stopProcesses(processes);
  const network = nodeNetwork();
  if (network !== undefined) await cleanNode(network); // containers, mounts, cgroups
  await rm(testbedDir, { recursive: true, force: true });
  const stopped = processes.map((recorded) => recorded.name).join(", ") || "nothing was running";
  console.log(`Testbed down: ${stopped}.`);
  if (killed.length > 0) console.log(`(killed after the grace period: ${killed.join(", ")})`);
}

const command = process.argv[2];
if (command === "up") await up();
else if (command === "down") await down();
else if (command === "deploy") await deployToTestbed(envFile);
else {
  console.error("usage: node --import tsx scripts/testbed.ts up|down|deploy");
  process.exitCode = 2;
}
