import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startControlPlane, type ControlPlane } from "../../harness/kube.ts";
import { teardownList, type SuiteHooks } from "../../harness/kube-shared.ts";
import { createCrane, startRegistry, type Crane, type Registry } from "../../harness/testbed.ts";
import { runCli, type CliRun } from "../../helpers/run-cli.ts";
import { checkPolicyDocument } from "../../../src/policy/document/document.ts";
import type { PinRecord } from "../../../src/policy/document/schema.ts";
import { putConfigMap, readConfigMapData } from "../../harness/kube-configmaps.ts";

export interface CliTestbed {
  readonly cluster: ControlPlane;
  readonly registry: Registry;
  readonly crane: Crane;
  /** A HOME without a docker config, for the CLI's environment. */
  readonly home: string;
}

/** One API server, one registry (no auth) and crane for every test of a file. */
export function sharedTestbed(test: SuiteHooks): () => CliTestbed {
  const suite = teardownList();
  let shared: CliTestbed | undefined;
  test.before(async () => {
    const [cluster, registry] = await Promise.all([
      startControlPlane(suite, { controllerManager: false }),
      startRegistry(suite, { auth: "none" }),
    ]);
    const crane = await createCrane(suite, registry);
    const home = await mkdtemp(join(tmpdir(), "digestpin-cli-home-"));
    suite.teardown(() => rm(home, { recursive: true, force: true }));
    shared = { cluster, registry, crane, home };
  });
  test.after.always(() => suite.run());
  return () => {
    if (shared === undefined) throw new Error("the testbed did not start");
    return shared;
  };
}

/** Runs `digestpin ARGS… --ca-file REGISTRY-CA` as user tester on host ci. */
export function digestpin(testbed: CliTestbed, args: readonly string[]): Promise<CliRun> {
  return cli(testbed, [...args, "--ca-file", testbed.registry.caFile]);
}

/** Runs `digestpin ARGS…` (a command that asks no registry) as user tester on host ci. */
export function cli(testbed: CliTestbed, args: readonly string[]): Promise<CliRun> {
  return runCli(args, { HOME: testbed.home, USER: "tester", HOSTNAME: "ci" });
}

/** The flags that point a command at the policy ConfigMaps of `namespace`. */
export function inCluster(testbed: CliTestbed, namespace: string): string[] {
  return ["--kubeconfig", testbed.cluster.kubeconfigPath, "--namespace", namespace];
}

/** The text under `key` of a ConfigMap, and the pins it holds (by canonical key). */
export async function configMapPins(
  testbed: CliTestbed,
  namespace: string,
  name = "digestpin-policy",
  key = "policy.yaml",
): Promise<{ text: string; pins: Map<string, PinRecord> }> {
  const data = await readConfigMapData(testbed.cluster.kubeConfig, namespace, name);
  const text = data?.[key] ?? "";
  const result = checkPolicyDocument(text, name);
  if (!result.ok) throw new Error(`invalid ${name}: ${JSON.stringify(result.issues)}`);
  return { text, pins: new Map(result.document.pins.map((pin) => [pin.key, pin])) };
}

/** The pins of the first shard of digestpin's pin store in `namespace`. */
export function storePins(
  testbed: CliTestbed,
  namespace: string,
): Promise<{ text: string; pins: Map<string, PinRecord> }> {
  return configMapPins(testbed, namespace, "digestpin-pins-000", "pins.yaml");
}

/** Creates the policy ConfigMap of `namespace` with `policy.yaml`. */
export function putPolicy(testbed: CliTestbed, namespace: string, text: string): Promise<void> {
  return putConfigMap(testbed.cluster.kubeConfig, namespace, "digestpin-policy", {
    "policy.yaml": text,
  });
}

/** Runs a program with `input` on its stdin; resolves to its status and output. */
export function runProcess(
  command: string,
  args: readonly string[],
  input: string,
  env: Record<string, string>,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (status) => {
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(input);
  });
}
