/**
 * A testbed for people: `make testbed-up` starts the programs the tests use, on 127.0.0.1,
 * in the background, and prints how to reach them; `make testbed-down` stops them and removes
 * .testbed/.   Usage: node --import tsx scripts/testbed.ts up|down
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startControlPlane, type ControlPlane } from "../test/harness/kube.ts";
import { teardownList } from "../test/harness/kube-shared.ts";
import { launchDetached } from "../test/harness/launch-detached.ts";
import type { Teardown } from "../test/harness/lifecycle.ts";
import { toolPath } from "../test/harness/tools.ts";
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
  await rm(testbedDir, { recursive: true, force: true });
  await mkdir(testbedDir, { recursive: true });
  const started = Date.now();
  const undo = teardownList();
  try {
    const controlPlane = await startControlPlane(undo, {
      dir: join(testbedDir, "kube"),
      launch: launchDetached,
      controllerManager: true,
    });
    const registryEnv = await startRegistrySide(undo, testbedDir);
    await recordProcesses(
      pidsFile,
      controlPlane.services.map((service) => ({
        pid: service.process.pid!,
        name: service.name,
      })),
    );
    const env = { ...(await controlPlaneEnv(controlPlane)), ...registryEnv };
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
 * The registry side of the testbed (registry, token server, toxiproxy), started by
 * test/harness/testbed.ts once it exists. Returns what it adds to .testbed/env; its
 * programs must be started with `launchDetached` and added to the pids file.
 */
async function startRegistrySide(_undo: Teardown, _dir: string): Promise<Env> {
  return Promise.resolve({});
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

Use it from a shell:
    export KUBECONFIG=${controlPlane.kubeconfigPath}
    export PATH=${kubectlDir}:${helmDir}:$PATH   # the testbed's kubectl and helm
    kubectl get ns
or load every setting:   set -a; . ${envFile}; set +a

Logs:
${logs}
Stop it with:   make testbed-down`);
}

async function down(): Promise<void> {
  const processes = await readProcesses(pidsFile);
  const killed = await stopProcesses(processes);
  await rm(testbedDir, { recursive: true, force: true });
  const stopped = processes.map((recorded) => recorded.name).join(", ") || "nothing was running";
  console.log(`Testbed down: ${stopped}.`);
  if (killed.length > 0) console.log(`(killed after the grace period: ${killed.join(", ")})`);
}

const command = process.argv[2];
if (command === "up") await up();
else if (command === "down") await down();
else {
  console.error("usage: node --import tsx scripts/testbed.ts up|down");
  process.exitCode = 2;
}
