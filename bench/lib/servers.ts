import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { freePort } from "../../test/harness/ports.ts";
import type { CpuRole } from "./cpus.ts";
import { spawnLogged, waitForLog, type Child } from "./process.ts";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A webhook under test: where to POST reviews, and its process. */
export interface Target {
  readonly name: string;
  /** The full URL reviews are POSTed to (…/mutate, …/v1/mutate). */
  readonly url: string;
  readonly child: Child;
}

export interface Serving {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface DigestpinOptions {
  readonly dir: string;
  readonly serving: Serving;
  /** `--policy FILE`, or `--policy-configmap NS/NAME` with a kubeconfig. */
  readonly policy:
    | { readonly file: string }
    | { readonly configMap: string; readonly kubeconfig: string; readonly namespace: string };
  /** Node.js flags after the container image's (imageNodeFlags; a later flag wins). */
  readonly nodeArgs?: readonly string[];
  readonly logLevel?: string;
  readonly name?: string;
  /** Another build's dist/ directory (e.g. of an earlier commit, to compare with). */
  readonly dist?: string;
  readonly output?: "pipe" | "file";
  /** The CPUs to run on (cpus.ts). */
  readonly cpus?: CpuRole;
}

/**
 * The Node.js flags the container image runs digestpin with: those between `node` and the CLI
 * in the Dockerfile's ENTRYPOINT, so the benchmark measures what the image runs.
 */
export async function imageNodeFlags(): Promise<string[]> {
  const dockerfile = await readFile(join(REPO_ROOT, "Dockerfile"), "utf8");
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
  const words = entrypoint === undefined ? [] : (JSON.parse(entrypoint) as string[]);
  if (words[0] !== "node" || words.at(-1) !== "/app/dist/cli.js")
    throw new Error(
      `Dockerfile: ENTRYPOINT ${entrypoint ?? "missing"} is not ["node", …flags, "/app/dist/cli.js"]`,
    );
  return words.slice(1, -1);
}

/** `digestpin serve` from dist/ with the image's Node flags, on free loopback ports. */
export async function startDigestpin(
  options: DigestpinOptions,
): Promise<Target & { metricsUrl: string }> {
  const name = options.name ?? "digestpin";
  const policy =
    "file" in options.policy
      ? ["--policy", options.policy.file]
      : [
          "--policy-configmap",
          options.policy.configMap,
          "--kubeconfig",
          options.policy.kubeconfig,
          "--namespace",
          options.policy.namespace,
        ];
  // Ports chosen here (not 0): at a log level above info, serve does not log where it listens.
  const [port, metricsPort] = [await freePort(), await freePort()];
  const child = spawnLogged({
    name,
    command: process.execPath,
    args: [
      ...(await imageNodeFlags()),
      ...(options.nodeArgs ?? []),
      join(options.dist ?? join(REPO_ROOT, "dist"), "cli.js"),
      "serve",
      ...policy,
      "--tls-cert-file",
      options.serving.certFile,
      "--tls-key-file",
      options.serving.keyFile,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--metrics-host",
      "127.0.0.1",
      "--metrics-port",
      String(metricsPort),
      "--drain-delay",
      "0",
      "--log-level",
      options.logLevel ?? "info",
    ],
    logFile: await logFile(options.dir, name),
    cwd: options.dir,
    env: { NODE_ENV: "production" },
    ...(options.output !== undefined && { output: options.output }),
    ...(options.cpus !== undefined && { cpus: options.cpus }),
  });
  const metricsUrl = `http://127.0.0.1:${metricsPort}`;
  await waitReady(`${metricsUrl}/readyz`, child);
  return { name, url: `https://127.0.0.1:${port}/mutate`, metricsUrl, child };
}

/**
 * The bare node:https server (bench/servers/limit-server.ts) answering a file's bytes, or
 * replaying the answers of the digestpin at `replay` with each review's uid; with the image's
 * Node flags (as digestpin: the same heap settings on both sides of the comparison), then
 * `nodeArgs`.
 */
export async function startLimit(
  dir: string,
  serving: Serving,
  answers: string | { readonly replay: string; readonly caFile: string },
  nodeArgs: readonly string[] = [],
  cpus?: CpuRole,
): Promise<Target> {
  const child = spawnLogged({
    ...(cpus !== undefined && { cpus }),
    name: "limit",
    command: process.execPath,
    args: [
      ...(await imageNodeFlags()),
      ...nodeArgs,
      "--import",
      "tsx",
      join(REPO_ROOT, "bench/servers/limit-server.ts"),
      serving.certFile,
      serving.keyFile,
      ...(typeof answers === "string" ? [answers] : ["--replay", answers.replay, answers.caFile]),
    ],
    logFile: await logFile(dir, "limit"),
    cwd: REPO_ROOT,
  });
  const url = await waitForLog(child, (text) => /"url":"([^"]+)"/.exec(text)?.[1]);
  return { name: "limit", url: `${url}/mutate`, child };
}

export interface PeerOptions {
  readonly binary: string;
  readonly dir: string;
  readonly serving: Serving;
  readonly kubeconfig: string;
  /** The registry's CA, trusted through SSL_CERT_FILE as Go programs do. */
  readonly registryCaFile: string;
}

/**
 * google/k8s-digester's webhook (a binary built elsewhere, DIGESTPIN_BENCH_DIGESTER), with the
 * benchmark's certificate (no rotation), --offline (no imagePullSecrets lookups, as digestpin
 * without --pull-secrets) and its default logging.
 */
export async function startPeer(options: PeerOptions): Promise<Target> {
  const certDir = join(options.dir, "peer-certs");
  await mkdir(certDir, { recursive: true });
  await writeFile(join(certDir, "tls.crt"), await readFile(options.serving.certFile));
  await writeFile(join(certDir, "tls.key"), await readFile(options.serving.keyFile));
  const port = await freePort();
  const health = await freePort();
  const child = spawnLogged({
    name: "k8s-digester",
    command: options.binary,
    args: [
      "webhook",
      "--cert-dir",
      certDir,
      "--disable-cert-rotation",
      "--offline",
      "--port",
      String(port),
      "--health-addr",
      `127.0.0.1:${health}`,
      "--metrics-addr",
      "0",
      "--kubeconfig",
      options.kubeconfig,
    ],
    logFile: await logFile(options.dir, "k8s-digester"),
    cwd: options.dir,
    env: {
      SSL_CERT_FILE: options.registryCaFile,
      POD_NAMESPACE: "digester-system",
      HOME: options.dir,
      DOCKER_CONFIG: options.dir,
    },
  });
  await waitReady(`http://127.0.0.1:${health}/readyz`, child);
  // The webhook server starts after the manager's caches; wait until it takes connections.
  await waitForPort(port, child);
  return { name: "k8s-digester", url: `https://127.0.0.1:${port}/v1/mutate`, child };
}

/**
 * Logs go to their own directory: a file-policy digestpin watches its policy file's directory,
 * and a log written next to it would make it re-read the policy on every line.
 */
/**
 * A new log file for a process named `name`: `name.log`, or `name-2.log`… when a process of
 * that name ran before in this run (a log is read for what the process says, e.g. its URL:
 * never an earlier process's lines).
 */
async function logFile(dir: string, name: string): Promise<string> {
  await mkdir(join(dir, "logs"), { recursive: true });
  for (let n = 1; ; n++) {
    const file = join(dir, "logs", n === 1 ? `${name}.log` : `${name}-${n}.log`);
    if (!existsSync(file)) return file;
  }
}

async function waitForPort(port: number, child: Child): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => {
        resolve(false);
      });
    });
    if (open) return;
    if (child.process.exitCode !== null)
      throw new Error(`${child.name} exited:\n${await child.logTail()}`);
    if (Date.now() > deadline)
      throw new Error(`${child.name} does not listen on ${port}:\n${await child.logTail()}`);
    await sleep(50);
  }
}

async function waitReady(url: string, child: Child): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await fetch(url).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    if (child.process.exitCode !== null)
      throw new Error(`${child.name} exited:\n${await child.logTail()}`);
    if (Date.now() > deadline)
      throw new Error(`${child.name} not ready:\n${await child.logTail()}`);
    await sleep(50);
  }
}
