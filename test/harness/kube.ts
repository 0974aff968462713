import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { startApiServer, type ApiServerNodeAccess } from "./kube-apiserver.ts";
import { clientKubeConfig, writeKubeconfig } from "./kube-config.ts";
import { startControllerManager } from "./kube-controller-manager.ts";
import { startEtcd } from "./kube-etcd.ts";
import { launchAttached, type Launch } from "./kube-launch.ts";
import { createTestNamespace } from "./kube-namespace.ts";
import { writeControlPlanePki } from "./kube-pki.ts";
import { startScheduler } from "./kube-scheduler.ts";
import { tempDir, type Teardown } from "./lifecycle.ts";
import { runCommand, type CommandResult } from "./run-command.ts";
import type { Service } from "./service.ts";
import { toolPath } from "./tools.ts";

export interface ControlPlaneOptions {
  /**
   * Also run kube-controller-manager (default true): Deployments get ReplicaSets and Pods,
   * namespaces their `default` ServiceAccount. It costs about 0.3 s and 100 MiB; `false` gives
   * the bare envtest-like API server.
   */
  readonly controllerManager?: boolean;
  /** Keep every file here (not removed on stop) instead of in a temp dir. */
  readonly dir?: string;
  /** How programs are started; `make testbed-up` detaches them. */
  readonly launch?: Launch;
  /**
   * For a control plane with a node (node.ts): the API server also listens where the node's
   * Pods reach it, and kube-scheduler runs too. Needs the node's network namespace.
   */
  readonly node?: ApiServerNodeAccess;
}

export interface KubectlOptions {
  /** Written to kubectl's stdin (for `-f -`). */
  readonly input?: string;
  /** Where relative `-f` paths are read from (and printed as). */
  readonly cwd?: string;
}

/** Milliseconds from launch to ready, per program. */
export interface ControlPlaneTimings {
  readonly etcdMs: number;
  readonly apiServerMs: number;
  readonly controllerManagerMs?: number;
  readonly schedulerMs?: number;
}

export interface ControlPlane {
  /** https://127.0.0.1:PORT */
  readonly url: string;
  /** Bearer token of `admin` in `system:masters`. */
  readonly token: string;
  /** The CA that signed the API server's certificate. */
  readonly caPem: string;
  readonly kubeconfigPath: string;
  readonly kubeConfig: KubeConfig;
  readonly dir: string;
  /** etcd, kube-apiserver and, if asked for, kube-controller-manager. */
  readonly services: readonly Service[];
  readonly timings: ControlPlaneTimings;
  /** Runs kubectl against this control plane; a failing kubectl is a result, not an error. */
  kubectl(args: readonly string[], options?: KubectlOptions): Promise<CommandResult>;
  /** A fresh namespace with its `default` ServiceAccount, deleted on `t`'s teardown. */
  namespace(t: Teardown, prefix?: string): Promise<string>;
  /** Stops every program, last started first; idempotent. `t`'s teardown calls it. */
  stop(): Promise<void>;
}

/**
 * Starts etcd, kube-apiserver and kube-controller-manager on free 127.0.0.1 ports with their
 * files in a temp dir; `t.teardown` stops them and removes it.
 */
export async function startControlPlane(
  t: Teardown,
  options: ControlPlaneOptions = {},
): Promise<ControlPlane> {
  const launch = options.launch ?? launchAttached;
  const dir = options.dir ?? (await tempDir(t, "kube"));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const services: Service[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const service of services.toReversed()) await service.stop();
    })());
  // Registered after tempDir's removal, so it runs first (teardowns run last-in, first-out).
  t.teardown(stop);

  const kubectlPath = toolPath("kubectl");
  kubectlPath.catch(() => undefined); // awaited below; a build failure surfaces there
  const pki = await writeControlPlanePki(dir);
  const etcd = await startEtcd(dir, launch);
  services.push(etcd.service);
  const apiServer = await startApiServer(dir, etcd.clientUrl, pki, launch, options.node);
  services.push(apiServer.service);

  const access = { server: apiServer.url, caPem: pki.caPem, token: pki.adminToken };
  const kubeconfigPath = join(dir, "kubeconfig");
  await writeKubeconfig(kubeconfigPath, access);
  let controllerManagerMs: number | undefined;
  if (options.controllerManager ?? true) {
    const controllerManager = await startControllerManager(dir, kubeconfigPath, pki, launch);
    services.push(controllerManager.service);
    controllerManagerMs = controllerManager.readyMs;
  }
  let schedulerMs: number | undefined;
  if (options.node !== undefined) {
    const scheduler = await startScheduler(dir, kubeconfigPath, launch);
    services.push(scheduler.service);
    schedulerMs = scheduler.readyMs;
  }

  const kubeConfig = clientKubeConfig(access);
  const kubectlEnv = { KUBECONFIG: kubeconfigPath, KUBECACHEDIR: join(dir, "kubectl-cache") };
  const kubectl = await kubectlPath;
  return {
    url: apiServer.url,
    token: pki.adminToken,
    caPem: pki.caPem,
    kubeconfigPath,
    kubeConfig,
    dir,
    services,
    timings: {
      etcdMs: etcd.readyMs,
      apiServerMs: apiServer.readyMs,
      ...(controllerManagerMs === undefined ? {} : { controllerManagerMs }),
      ...(schedulerMs === undefined ? {} : { schedulerMs }),
    },
    kubectl: (args, kubectlOptions = {}) =>
      runCommand(kubectl, args, { ...kubectlOptions, env: kubectlEnv }),
    namespace: (test, prefix) => createTestNamespace(kubeConfig, test, prefix),
    stop,
  };
}
