/**
 * `helm install` of the chart into a testbed API server (no kubelet: digestpin's Pods never run),
 * then what the install grants and does: RBAC exactly as documented, fail-closed webhooks,
 * upgrades that keep the caBundle and can change the policy, uninstall that keeps the policy.
 * The tests run in order (serial) on one release; each file gets its own control plane.
 */
import { setTimeout as sleep } from "node:timers/promises";
import test, { type ExecutionContext } from "ava";
import { parse } from "yaml";
import { createHelm, type Helm } from "../harness/helm.ts";
import { sharedControlPlane, teardownList } from "../harness/kube-shared.ts";
import type { ControlPlane } from "../harness/kube.ts";
import { CHART_DIR } from "./chart.ts";

const controlPlane = sharedControlPlane(test, { controllerManager: false });
const suite = teardownList();
test.after.always(() => suite.run());

interface Installed {
  readonly cluster: ControlPlane;
  readonly helm: Helm;
  /** The release namespace. */
  readonly ns: string;
  /** A namespace digestpin enforces in. */
  readonly other: string;
}
let installed: Installed | undefined;
const setup = (): Installed => {
  if (installed === undefined) throw new Error("the install test did not run");
  return installed;
};

const SA = (ns: string) => `system:serviceaccount:${ns}:digestpin`;

const podYaml = (name: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  containers:
    - name: app
      image: busybox:1.36
`;

/** `kubectl apply --dry-run=server` of a Pod in `namespace`: admission runs, nothing is stored. */
const tryPod = (cluster: ControlPlane, namespace: string) =>
  cluster.kubectl(["apply", "--dry-run=server", `--namespace=${namespace}`, "-f", "-"], {
    input: podYaml("try"),
  });

test.serial("helm install: deployed, with NOTES that say what to do next", async (t) => {
  const cluster = controlPlane();
  const ns = await cluster.namespace(suite, "digestpin");
  const other = await cluster.namespace(suite, "apps");
  const helm = await createHelm(suite, { kubeconfigPath: cluster.kubeconfigPath });
  const result = await helm(["install", "digestpin", CHART_DIR, `--namespace=${ns}`]);
  t.is(result.exitCode, 0, result.stderr);
  t.regex(result.stdout, /^STATUS: deployed$/m);
  t.regex(result.stdout, new RegExp(`rollout status deployment/digestpin`));
  t.regex(result.stdout, /Pods in every other namespace are DENIED \(fail closed\)/);
  installed = { cluster, helm, ns, other };

  const got = await cluster.kubectl([
    "get",
    "mutatingwebhookconfiguration/digestpin",
    "validatingwebhookconfiguration/digestpin",
    "clusterrole/digestpin",
    `--namespace=${ns}`,
    "deployment/digestpin",
    "configmap/digestpin-policy",
    "-o",
    "name",
  ]);
  t.is(got.exitCode, 0, got.stderr);
});

/** [verb, resource, namespace (or "" for cluster-scoped / --all-namespaces)] */
type Access = readonly [
  verb: string,
  resource: string,
  where: "ns" | "other" | "kube-system" | "all",
];

async function canI(setupValue: Installed, [verb, resource, where]: Access): Promise<boolean> {
  const { cluster, ns, other } = setupValue;
  const scope =
    where === "all"
      ? ["--all-namespaces"]
      : [`--namespace=${where === "ns" ? ns : where === "other" ? other : "kube-system"}`];
  const result = await cluster.kubectl([
    "auth",
    "can-i",
    verb,
    resource,
    `--as=${SA(ns)}`,
    ...scope,
  ]);
  if (result.stdout.trim() === "yes") return true;
  if (result.stdout.trim() === "no") return false;
  throw new Error(`kubectl auth can-i ${verb} ${resource}: ${result.stdout}${result.stderr}`);
}

const CONFIG = "configmaps";
// The pin store's ConfigMaps (pinStore.maxShards: 64) and the earlier trust-on-first-use one.
const STORE_NAMES = [
  "digestpin-pins-auto",
  ...Array.from({ length: 64 }, (_, i) => `digestpin-pins-${String(i).padStart(3, "0")}`),
];
const MWC = "mutatingwebhookconfigurations.admissionregistration.k8s.io";
const VWC = "validatingwebhookconfigurations.admissionregistration.k8s.io";

// What docs/install.md says digestpin may do (self-managed certificates, no pull secrets)...
const ALLOWED: Access[] = [
  ["get", CONFIG, "ns"],
  ["list", CONFIG, "ns"],
  ["watch", CONFIG, "ns"],
  ["create", CONFIG, "ns"],
  ["update", `${CONFIG}/digestpin-pins-auto`, "ns"],
  ["patch", `${CONFIG}/digestpin-pins-auto`, "ns"],
  ["update", `${CONFIG}/digestpin-pins-000`, "ns"], // its pin store, by name
  ["patch", `${CONFIG}/digestpin-pins-063`, "ns"],
  ["create", "events", "ns"],
  ["patch", "events", "ns"],
  ["create", "events.events.k8s.io", "ns"],
  ["patch", "events.events.k8s.io", "ns"],
  ["create", "events", "other"], // TagDrift Events go to the workload's namespace
  ["get", "namespaces", "all"], // namespace labels for the policy's namespaces rules
  ["list", "namespaces", "all"],
  ["watch", "namespaces", "all"],
  ["create", "secrets", "ns"],
  ["get", "secrets/digestpin-tls", "ns"],
  ["update", "secrets/digestpin-tls", "ns"],
  ["get", `${MWC}/digestpin`, "all"],
  ["patch", `${MWC}/digestpin`, "all"],
  ["get", `${VWC}/digestpin`, "all"],
  ["patch", `${VWC}/digestpin`, "all"],
  ["update", `${CONFIG}/digestpin-drift`, "ns"], // the drift report
  ["create", "leases.coordination.k8s.io", "ns"], // the drift scan's Lease
  ["get", "leases.coordination.k8s.io/digestpin-drift-scan", "ns"],
  ["update", "leases.coordination.k8s.io/digestpin-drift-scan", "ns"],
  ["list", "pods", "all"], // the drift scan's inventory
  ["watch", "pods", "all"],
  ["list", "deployments.apps", "all"],
  ["watch", "statefulsets.apps", "all"],
  ["watch", "daemonsets.apps", "all"],
];
// ...and a sample of what it may not.
const DENIED: Access[] = [
  ["update", `${CONFIG}/digestpin-policy`, "ns"], // the policy belongs to people
  ["patch", `${CONFIG}/digestpin-policy`, "ns"],
  ["update", CONFIG, "ns"],
  ["delete", `${CONFIG}/digestpin-pins-auto`, "ns"],
  ["delete", `${CONFIG}/digestpin-pins-000`, "ns"], // it never deletes a pin store shard
  ["update", `${CONFIG}/digestpin-pins-064`, "ns"], // past pinStore.maxShards
  ["get", CONFIG, "other"],
  ["list", CONFIG, "all"],
  ["list", "events", "ns"],
  ["delete", "events", "ns"],
  ["list", "secrets", "ns"],
  ["watch", "secrets", "ns"],
  ["get", "secrets/other-secret", "ns"],
  ["patch", "secrets/digestpin-tls", "ns"],
  ["delete", "secrets/digestpin-tls", "ns"],
  ["get", "secrets/digestpin-tls", "other"],
  ["get", "secrets", "other"],
  ["get", "secrets", "kube-system"],
  ["get", "serviceaccounts", "other"],
  ["get", "pods", "other"],
  ["create", "pods", "ns"],
  ["update", "leases.coordination.k8s.io/other-lease", "ns"],
  ["delete", "leases.coordination.k8s.io/digestpin-drift-scan", "ns"],
  ["update", "deployments.apps", "all"],
  ["list", MWC, "all"],
  ["watch", MWC, "all"],
  ["update", `${MWC}/digestpin`, "all"],
  ["delete", `${MWC}/digestpin`, "all"],
  ["create", MWC, "all"],
  ["patch", `${MWC}/someone-else`, "all"],
  ["patch", `${VWC}/someone-else`, "all"],
  ["create", "roles.rbac.authorization.k8s.io", "ns"],
  ["create", "rolebindings.rbac.authorization.k8s.io", "ns"],
  ["bind", "clusterroles.rbac.authorization.k8s.io", "all"],
  ["impersonate", "serviceaccounts", "ns"],
  ["create", "namespaces", "all"],
  ["update", "namespaces", "all"],
  ["get", "events", "other"],
  ["get", "nodes", "all"],
];

async function assertAccess(
  t: ExecutionContext,
  allowed: readonly Access[],
  denied: readonly Access[],
): Promise<void> {
  const value = setup();
  const [yes, no] = await Promise.all([
    Promise.all(allowed.map((access) => canI(value, access))),
    Promise.all(denied.map((access) => canI(value, access))),
  ]);
  t.deepEqual(
    allowed.filter((_, index) => !yes[index]).map((access) => access.join(" ")),
    [],
    "allowed, but can-i says no",
  );
  t.deepEqual(
    denied.filter((_, index) => no[index]).map((access) => access.join(" ")),
    [],
    "denied, but can-i says yes",
  );
}

test.serial("kubectl auth can-i: the service account may do what the docs say", async (t) => {
  await assertAccess(t, ALLOWED, DENIED);
});

/** `kubectl auth can-i --list` as rows "resource | non-resource URLs | names | verbs". */
async function rules(cluster: ControlPlane, user: string, namespace: string): Promise<string[]> {
  const result = await cluster.kubectl([
    "auth",
    "can-i",
    "--list",
    `--as=${user}`,
    `--namespace=${namespace}`,
  ]);
  if (result.exitCode !== 0) throw new Error(result.stderr);
  const [header = "", ...lines] = result.stdout.trimEnd().split("\n");
  const columns = ["Non-Resource URLs", "Resource Names", "Verbs"].map((name) =>
    header.indexOf(name),
  );
  const cuts = [0, ...columns, Infinity];
  return lines.map((line) =>
    cuts
      .slice(0, -1)
      .map((start, index) => line.slice(start, cuts[index + 1]).trim())
      .join(" | "),
  );
}

/** The rows of `user` that an account without any binding does not have. */
async function grantedRules(namespace: string): Promise<string[]> {
  const { cluster, ns } = setup();
  const [granted, baseline] = await Promise.all([
    rules(cluster, SA(ns), namespace),
    rules(cluster, `system:serviceaccount:${ns}:nobody`, namespace),
  ]);
  const rest = [...baseline];
  return granted
    .filter((row) => {
      const index = rest.indexOf(row);
      if (index === -1) return true;
      rest.splice(index, 1);
      return false;
    })
    .sort();
}

const CLUSTER_RULES = [
  `${MWC} | [] | [digestpin] | [get list watch patch]`,
  `${VWC} | [] | [digestpin] | [get list watch patch]`,
  "events | [] | [] | [create patch]",
  "events.events.k8s.io | [] | [] | [create patch]",
  "namespaces | [] | [] | [get list watch]",
  // The drift scan's inventory.
  "pods | [] | [] | [list watch]",
  "deployments.apps | [] | [] | [list watch]",
  "statefulsets.apps | [] | [] | [list watch]",
  "daemonsets.apps | [] | [] | [list watch]",
];

test.serial(
  "kubectl auth can-i --list: those rules and no more, in its namespace and elsewhere",
  async (t) => {
    const { ns, other } = setup();
    t.deepEqual(
      await grantedRules(ns),
      [
        "configmaps | [] | [] | [get list watch create]",
        ...STORE_NAMES.map((name) => `configmaps | [] | [${name}] | [update patch]`),
        "configmaps | [] | [digestpin-drift] | [update patch]",
        "leases.coordination.k8s.io | [] | [] | [create]",
        "leases.coordination.k8s.io | [] | [digestpin-drift-scan] | [get update]",
        "secrets | [] | [] | [create]",
        "secrets | [] | [digestpin-tls] | [get list watch update]",
        ...CLUSTER_RULES,
      ].sort(),
    );
    t.deepEqual(await grantedRules(other), CLUSTER_RULES.toSorted());
  },
);

test.serial(
  "fail closed: with no replica answering, Pods and workloads in enforced namespaces are denied; kube-system and its own namespace are not",
  async (t) => {
    const { cluster, ns, other } = setup();
    // The API server picks the configurations up from an informer, a moment after they exist.
    let denied = await tryPod(cluster, other);
    for (let tries = 0; denied.exitCode === 0 && tries < 100; tries += 1) {
      await sleep(100);
      denied = await tryPod(cluster, other);
    }
    t.is(denied.exitCode, 1);
    t.regex(denied.stderr, /failed calling webhook "mutate\.digestpin\.dev"/);

    const deployment = await cluster.kubectl([
      "create",
      "deployment",
      "web",
      "--image=busybox:1.36",
      "--dry-run=server",
      `--namespace=${other}`,
    ]);
    t.is(deployment.exitCode, 1);
    t.regex(deployment.stderr, /failed calling webhook "validate\.digestpin\.dev"/);

    // Without kube-controller-manager, kube-system has no `default` ServiceAccount yet.
    await cluster.kubectl(["create", "serviceaccount", "default", "--namespace=kube-system"]);
    for (const exempt of [ns, "kube-system"]) {
      t.deepEqual(
        await tryPod(cluster, exempt),
        { stdout: "pod/try created (server dry run)\n", stderr: "", exitCode: 0 },
        exempt,
      );
    }
  },
);

test.serial(
  "helm upgrade keeps the caBundle digestpin patched in, and can change the policy while no replica answers",
  async (t) => {
    const { cluster, helm, ns } = setup();
    const caBundle = Buffer.from(
      "-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n",
    ).toString("base64");
    // What digestpin does in self-managed mode, done by hand.
    for (const [kind, count] of [
      ["mutatingwebhookconfiguration", 1],
      ["validatingwebhookconfiguration", 2],
    ] as const) {
      const patch = Array.from({ length: count }, (_, index) => ({
        op: "add",
        path: `/webhooks/${index}/clientConfig/caBundle`,
        value: caBundle,
      }));
      const patched = await cluster.kubectl([
        "patch",
        kind,
        "digestpin",
        "--type=json",
        `--patch=${JSON.stringify(patch)}`,
      ]);
      t.is(patched.exitCode, 0, patched.stderr);
    }

    const upgraded = await helm([
      "upgrade",
      "digestpin",
      CHART_DIR,
      `--namespace=${ns}`,
      "--reuse-values",
      "--set=policy.document.mode=warn",
      "--set=webhooks.timeoutSeconds=7",
    ]);
    t.is(upgraded.exitCode, 0, upgraded.stderr);

    for (const kind of ["mutatingwebhookconfiguration", "validatingwebhookconfiguration"]) {
      const got = await cluster.kubectl(["get", kind, "digestpin", "-o", "json"]);
      const webhooks = JSON.parse(got.stdout).webhooks as {
        clientConfig: { caBundle?: string };
        timeoutSeconds: number;
      }[];
      t.deepEqual(
        webhooks.map((webhook) => [webhook.clientConfig.caBundle, webhook.timeoutSeconds]),
        webhooks.map(() => [caBundle, 7]),
        kind,
      );
    }
    // validate-policy.digestpin.dev fails open, so the upgrade could write the policy.
    const policy = await cluster.kubectl([
      "get",
      "configmap",
      "digestpin-policy",
      `--namespace=${ns}`,
      "-o",
      "jsonpath={.data.policy\\.yaml}",
    ]);
    t.like(parse(policy.stdout), { mode: "warn" });
  },
);

test.serial(
  "pullSecrets toggles cluster-wide Secret and ServiceAccount reads (get by name, never list)",
  async (t) => {
    const { helm, ns } = setup();
    const upgrade = (enabled: boolean) =>
      helm([
        "upgrade",
        "digestpin",
        CHART_DIR,
        `--namespace=${ns}`,
        "--reuse-values",
        `--set=pullSecrets.enabled=${enabled}`,
      ]);
    const pullSecretReads: Access[] = [
      ["get", "secrets", "other"],
      ["get", "secrets", "kube-system"],
      ["get", "serviceaccounts", "other"],
    ];
    const stillDenied: Access[] = [
      ["list", "secrets", "other"],
      ["watch", "secrets", "all"],
      ["list", "serviceaccounts", "all"],
      ["get", "pods", "other"],
      ["update", "secrets", "other"],
    ];
    const on = await upgrade(true);
    t.is(on.exitCode, 0, on.stderr);
    await assertAccess(t, [...ALLOWED, ...pullSecretReads], stillDenied);
    const off = await upgrade(false);
    t.is(off.exitCode, 0, off.stderr);
    await assertAccess(t, ALLOWED, [...DENIED, ...pullSecretReads]);
  },
);

test.serial(
  "helm uninstall removes the webhooks (Pods are admitted again) and keeps the policy ConfigMap",
  async (t) => {
    const { cluster, helm, ns, other } = setup();
    const removed = await helm(["uninstall", "digestpin", `--namespace=${ns}`]);
    t.is(removed.exitCode, 0, removed.stderr);
    t.regex(removed.stdout + removed.stderr, /kept due to the resource policy/);

    const kept = await cluster.kubectl([
      "get",
      "configmap",
      "digestpin-policy",
      `--namespace=${ns}`,
      "-o",
      "name",
    ]);
    t.is(kept.stdout, "configmap/digestpin-policy\n");
    const gone = await cluster.kubectl([
      "get",
      "mutatingwebhookconfigurations,validatingwebhookconfigurations,clusterroles,clusterrolebindings",
      "--field-selector=metadata.name=digestpin",
      "-o",
      "name",
    ]);
    t.is(gone.stdout, "");

    let admitted = await tryPod(cluster, other);
    for (let tries = 0; admitted.exitCode !== 0 && tries < 100; tries += 1) {
      await sleep(100);
      admitted = await tryPod(cluster, other);
    }
    t.deepEqual(admitted, {
      stdout: "pod/try created (server dry run)\n",
      stderr: "",
      exitCode: 0,
    });
  },
);
