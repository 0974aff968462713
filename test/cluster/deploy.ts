import { AppsV1Api, type KubeConfig } from "@kubernetes/client-node";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Crane } from "../harness/crane.ts";
import type { Helm } from "../harness/helm.ts";
import { tempDir, type Teardown } from "../harness/lifecycle.ts";
import { stringify } from "yaml";
import { registryEntries } from "../helpers/resolver-for.ts";
import type { Registry } from "../harness/registry.ts";
import type { CommandResult } from "../harness/run-command.ts";
import { waitFor } from "../harness/wait.ts";

export const CHART_DIR = fileURLToPath(new URL("../../charts/digestpin", import.meta.url));

export interface DeployOptions {
  /** Removes the values files once the tests (or the deploy command) are done with them. */
  readonly t: Teardown;
  readonly kubeConfig: KubeConfig;
  /** `host:port` of the registry the node pulls from. */
  readonly registryHost: string;
  readonly crane: Crane;
  readonly helm: Helm;
  /** Where `make image` wrote the image (name, digest, OCI layout). */
  readonly imageDir: string;
  readonly policyYaml: string;
  readonly release: string;
  readonly namespace: string;
}

export interface Deployed {
  /** `host/digestpin/digestpin:VERSION@sha256:…`, as the chart renders it into the Deployment. */
  readonly image: string;
  readonly repository: string;
  readonly digest: string;
  /** The values and policy files every `helm upgrade` of the tests starts from. */
  readonly valuesFile: string;
  readonly policyFile: string;
  readonly pushMs: number;
  readonly installMs: number;
}

/**
 * `make testbed-deploy` for the tests: the image pushed to the testbed registry, then `helm
 * install` of the chart with the image by digest and the policy, waiting for every replica to
 * be ready (self-managed certificates: the first replica up writes the CA into the webhooks).
 */
export async function deployDigestpin(options: DeployOptions): Promise<Deployed> {
  const built = await builtImage(options.imageDir);
  const version = built.name.slice(built.name.lastIndexOf(":") + 1);
  const repository = `${options.registryHost}/digestpin/digestpin`;
  let started = Date.now();
  const pushed = await options.crane.run(["push", built.layout, `${repository}:${version}`]);
  const digest = /sha256:[a-f0-9]{64}/.exec(pushed)?.[0] ?? "";
  if (digest !== built.digest) {
    throw new Error(`pushed ${pushed.trim()}, but make image built ${built.digest}`);
  }
  const pushMs = Date.now() - started;

  const dir = await tempDir(options.t, "deploy");
  const policyFile = join(dir, "policy.yaml");
  const valuesFile = join(dir, "values.yaml");
  await writeFile(policyFile, options.policyYaml);
  await writeFile(
    valuesFile,
    JSON.stringify({ image: { repository, tag: version, digest }, logLevel: "info" }),
  );
  started = Date.now();
  const installed = await options.helm([
    "install",
    options.release,
    CHART_DIR,
    `--namespace=${options.namespace}`,
    "--create-namespace",
    `--values=${valuesFile}`,
    `--set-file=policy.document=${policyFile}`,
    "--wait",
    "--timeout=10m",
  ]);
  check("helm install", installed);
  await waitForRollout(options.kubeConfig, options.namespace, options.release);
  return {
    image: `${repository}:${version}@${digest}`,
    repository,
    digest,
    valuesFile,
    policyFile,
    pushMs,
    installMs: Date.now() - started,
  };
}

/** Waits until the Deployment has all its replicas updated and ready, and no old ones. */
export async function waitForRollout(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
  timeoutMs = 600_000,
): Promise<void> {
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  await waitFor(
    `deployment ${namespace}/${name} to roll out`,
    async () => {
      const { metadata, spec, status } = await apps.readNamespacedDeployment({ name, namespace });
      const want = spec?.replicas ?? 1;
      return (status?.observedGeneration ?? 0) >= (metadata?.generation ?? 1) &&
        status?.updatedReplicas === want &&
        status.readyReplicas === want &&
        status.replicas === want
        ? true
        : undefined;
    },
    timeoutMs,
    500,
  );
}

export function check(what: string, result: CommandResult): void {
  if (result.exitCode !== 0) {
    throw new Error(`${what} exited ${result.exitCode}:\n${result.stdout}${result.stderr}`);
  }
}

/** The image `make image` wrote: its name (`localhost/digestpin:VERSION`), digest, OCI layout. */
export async function builtImage(
  dir: string,
): Promise<{ name: string; digest: string; layout: string }> {
  const read = (file: string) => readFile(join(dir, file), "utf8").then((text) => text.trim());
  const [name, digest] = await Promise.all([read("name"), read("digest")]).catch(() => {
    throw new Error(`no image in ${dir}: run make image (make cluster does)`);
  });
  return { name, digest, layout: join(dir, "oci") };
}

/**
 * The policy digestpin is installed with on the testbed: the chart's defaults (enforce, deny
 * unpinned and drift) with the testbed registry reachable (its CA; its address is a private
 * one), tags re-resolved at every review (a re-push is seen at once), and `pins`.
 */
export function testbedPolicy(
  registry: Pick<Registry, "host" | "caPem" | "tokenServer">,
  pins: Record<string, string> = {},
): string {
  return stringify({
    apiVersion: "digestpin.dev/v1alpha1",
    kind: "Policy",
    mode: "enforce",
    unpinned: "deny",
    drift: "deny",
    registryUnavailable: "use-pin",
    cacheTTL: "0s",
    registries: registryEntries(registry as Registry),
    pins,
  });
}
