import { CoreV1Api, KubernetesObjectApi } from "@kubernetes/client-node";
import { registryEntries } from "../helpers/resolver-for.ts";
import { policyYaml, type PolicyInput } from "./e2e-policy.ts";
import { createShell, Transcript, type Shell } from "./e2e-shell.ts";
import { startControlPlane, type ControlPlane } from "./kube.ts";
import { teardownList, type SuiteHooks } from "./kube-shared.ts";
import { putConfigMap } from "./kube-configmaps.ts";
import { createNamespace } from "./kube-namespace.ts";
import type { Teardown } from "./lifecycle.ts";
import {
  createCrane,
  startRegistry,
  type Crane,
  type Registry,
  type RegistryAuth,
} from "./testbed.ts";
import { waitFor } from "./wait.ts";
import { startDigestpinWebhook, type DigestpinWebhook } from "./webhook.ts";

/** digestpin's namespace in every e2e control plane (each test file has its own). */
export const SYSTEM_NAMESPACE = "digestpin-system";
export const POLICY_CONFIGMAP = "digestpin-policy";
/** The first ConfigMap of digestpin's pin store, where trust-on-first-use records pins. */
export const PIN_STORE_SHARD = "digestpin-pins-000";

export interface E2eOptions {
  /** The file's name: its webhook configurations are `digestpin-e2e-NAME`, its transcript NAME. */
  readonly name: string;
  /** Run kube-controller-manager too (default false: the bare API server). */
  readonly controllerManager?: boolean;
  /** One registry per auth mode, each with its own CA (default `["none"]`). */
  readonly registries?: readonly RegistryAuth[];
  readonly pullSecrets?: boolean;
}

/** Everything a scenario needs; one per test file, shared by its (serial) tests. */
export interface E2e {
  readonly cluster: ControlPlane;
  /** The first registry, and every registry by auth mode. */
  readonly registry: Registry;
  readonly registries: ReadonlyMap<RegistryAuth, Registry>;
  /** crane logged in to the first registry, and to each. */
  readonly crane: Crane;
  readonly cranes: ReadonlyMap<RegistryAuth, Crane>;
  readonly webhook: DigestpinWebhook;
  readonly objects: KubernetesObjectApi;
  readonly core: CoreV1Api;
  readonly transcript: Transcript;
  /** Clean-ups that run after the file's last test (for what a file's own `before` starts). */
  readonly suite: Teardown;
  /**
   * A namespace the webhook enforces, deleted on `t`'s teardown: exactly `name` (the control
   * plane is this file's alone), or a random one.
   */
  namespace(t: Teardown, name?: string): Promise<string>;
  /** A terminal (kubectl, digestpin) in a temp dir. */
  shell(t: Teardown): Promise<Shell>;
  /** A policy reaching every registry of the suite, with `input`'s settings and pins. */
  policy(input?: Partial<PolicyInput>): string;
  /** Puts `policy.yaml` into the policy ConfigMap and waits until the webhook has it in force. */
  setPolicy(text: string): Promise<void>;
  /** The policy ConfigMap's `policy.yaml`. */
  policyText(): Promise<string>;
}

/**
 * A control plane, registries, crane and `digestpin serve` for all tests of a file, started in
 * `test.before` (with a policy denying everything unpinned) and stopped in `test.after.always`.
 * The transcript is saved then too.
 */
/** The hooks of ava's `test` the suite uses. */
export interface E2eHooks extends SuiteHooks {
  afterEach: {
    always(
      fn: (t: { readonly passed: boolean; log(...values: unknown[]): void }) => Promise<void>,
    ): void;
  };
}

export function sharedE2e(test: E2eHooks, options: E2eOptions): () => E2e {
  const suite = teardownList();
  const transcript = new Transcript(options.name);
  let shared: E2e | undefined;
  test.before(async () => {
    const auths = options.registries ?? ["none"];
    const [cluster, ...registryList] = await Promise.all([
      startControlPlane(suite, { controllerManager: options.controllerManager ?? false }),
      ...auths.map((auth) => startRegistry(suite, { auth })),
    ]);
    const registries = new Map(registryList.map((registry) => [registry.auth, registry]));
    const cranes = new Map(
      await Promise.all(
        registryList.map(
          async (registry) => [registry.auth, await createCrane(suite, registry)] as const,
        ),
      ),
    );
    const objects = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    await createNamespace(cluster.kubeConfig, suite, SYSTEM_NAMESPACE);
    const probeNamespace = await cluster.namespace(suite, "probe");
    const entries = registryList.flatMap(registryEntries);
    const policy = (input: Partial<PolicyInput> = {}): string =>
      policyYaml({ registries: entries, ...input });
    await putConfigMap(cluster.kubeConfig, SYSTEM_NAMESPACE, POLICY_CONFIGMAP, {
      "policy.yaml": policy(),
    });
    const webhook = await startDigestpinWebhook(suite, cluster, {
      namespace: SYSTEM_NAMESPACE,
      name: `digestpin-e2e-${options.name}`,
      probeNamespace,
      ...(options.pullSecrets === true && { pullSecrets: true }),
    });
    const policyText = async (): Promise<string> =>
      (await core.readNamespacedConfigMap({ name: POLICY_CONFIGMAP, namespace: SYSTEM_NAMESPACE }))
        .data?.["policy.yaml"] ?? "";
    shared = {
      cluster,
      registry: registryList[0]!,
      registries,
      crane: cranes.get(auths[0]!)!,
      cranes,
      webhook,
      objects,
      core,
      transcript,
      suite,
      namespace: (t, name) =>
        name === undefined
          ? cluster.namespace(t, "e2e")
          : createNamespace(cluster.kubeConfig, t, name),
      shell: (t) => createShell(t, cluster),
      policy,
      policyText,
      async setPolicy(text) {
        if ((await policyText()) === text) return;
        const before = await webhook.metric("digestpin_policy_generation");
        await putConfigMap(cluster.kubeConfig, SYSTEM_NAMESPACE, POLICY_CONFIGMAP, {
          "policy.yaml": text,
        });
        await waitFor("the webhook to load the new policy", async () =>
          (await webhook.metric("digestpin_policy_generation")) > before ? true : undefined,
        );
      },
    };
  });
  // A failed test shows the end of digestpin's log.
  test.afterEach.always(async (t) => {
    if (!t.passed && shared !== undefined)
      t.log(
        `digestpin serve log (${shared.webhook.logFile}), last lines:\n${await shared.webhook.logTail(6000)}`,
      );
  });
  test.after.always(async () => {
    await transcript.save();
    await suite.run();
  });
  return () => {
    if (shared === undefined) throw new Error("the e2e testbed did not start");
    return shared;
  };
}
