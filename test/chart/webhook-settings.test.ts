/**
 * What files/webhooks.yaml sends to digestpin, proven against a real API server: the
 * configurations from test/helpers/webhook-settings.ts (the chart's webhooks with a URL) call two
 * recording test webhooks, one for /mutate and one for /validate, which admit everything.
 */
import { setTimeout as sleep } from "node:timers/promises";
import test from "ava";
import { KubernetesObjectApi } from "@kubernetes/client-node";
import { startControlPlane, type ControlPlane } from "../harness/kube.ts";
import { teardownList } from "../harness/kube-shared.ts";
import { startTestWebhook, type TestWebhook } from "../harness/kube-test-webhook.ts";
import { webhookSettings } from "../helpers/webhook-settings.ts";

const suite = teardownList();
test.after.always(() => suite.run());

interface Setup {
  readonly cluster: ControlPlane;
  /** digestpin's own namespace. */
  readonly ns: string;
  /** An enforced namespace. */
  readonly apps: string;
  readonly mutate: TestWebhook;
  readonly validate: TestWebhook;
}
let setup: Setup | undefined;
const the = (): Setup => {
  if (setup === undefined) throw new Error("setup failed");
  return setup;
};

const origin = (webhook: TestWebhook) => new URL(webhook.url).origin;

test.before(async () => {
  // One control plane for the file, started here: the steps below need it first.
  const cluster = await startControlPlane(suite, { controllerManager: false });
  const ns = await cluster.namespace(suite, "digestpin");
  const apps = await cluster.namespace(suite, "apps");
  const admit = () => ({ allowed: true });
  const [mutate, validate] = await Promise.all([
    startTestWebhook(suite, admit),
    startTestWebhook(suite, admit),
  ]);
  const { mutating } = webhookSettings({
    namespace: ns,
    url: origin(mutate),
    caBundle: mutate.caPem,
  });
  const { validating } = webhookSettings({
    namespace: ns,
    url: origin(validate),
    caBundle: validate.caPem,
  });
  const objects = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
  await objects.create(mutating);
  await objects.create(validating);
  // Without kube-controller-manager, kube-system has no `default` ServiceAccount yet.
  await cluster.kubectl(["create", "serviceaccount", "default", "--namespace=kube-system"]);
  setup = { cluster, ns, apps, mutate, validate };

  // The API server picks configurations up from an informer, a moment after they exist.
  const deadline = Date.now() + 30_000;
  while (mutate.reviews.length === 0) {
    if (Date.now() > deadline) throw new Error("the webhook configurations never took effect");
    await cluster.kubectl(["apply", "--dry-run=server", `--namespace=${apps}`, "-f", "-"], {
      input: pod("probe"),
    });
    await sleep(100);
  }
});

const pod = (name: string, image = "busybox:1.36") => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  containers:
    - name: app
      image: ${image}
`;

/** What each webhook was asked during `action`, as "Kind OPERATION[/subresource] namespace/name". */
async function asked(
  action: () => Promise<unknown>,
): Promise<{ mutate: string[]; validate: string[] }> {
  const { mutate, validate } = the();
  const before = [mutate.reviews.length, validate.reviews.length] as const;
  await action();
  const describe = (review: (typeof mutate.reviews)[number]) => {
    const request = review as typeof review & { subResource?: string; name?: string };
    const sub = request.subResource === undefined ? "" : `/${request.subResource}`;
    return `${request.kind.kind} ${request.operation}${sub} ${request.namespace ?? ""}/${request.name ?? ""}`;
  };
  return {
    mutate: mutate.reviews.slice(before[0]).map(describe),
    validate: validate.reviews.slice(before[1]).map(describe),
  };
}

/** kubectl, failing the test's action on a non-zero exit. */
async function kubectl(args: string[], input?: string): Promise<string> {
  const result = await the().cluster.kubectl(args, input === undefined ? {} : { input });
  if (result.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

test.serial(
  "a Pod in an enforced namespace goes to /mutate, then /validate; dry-run requests too",
  async (t) => {
    const { apps } = the();
    t.deepEqual(
      await asked(() =>
        kubectl(["apply", "--dry-run=server", `-n=${apps}`, "-f", "-"], pod("web")),
      ),
      { mutate: [`Pod CREATE ${apps}/web`], validate: [`Pod CREATE ${apps}/web`] },
    );
  },
);

test.serial("Pods in kube-system and in digestpin's own namespace go to neither", async (t) => {
  const { ns } = the();
  for (const namespace of [ns, "kube-system"]) {
    t.deepEqual(
      await asked(() =>
        kubectl(["apply", "--dry-run=server", `-n=${namespace}`, "-f", "-"], pod("web")),
      ),
      { mutate: [], validate: [] },
      namespace,
    );
  }
});

test.serial(
  "every kind with a pod template goes to /validate only (templates are validated, not mutated)",
  async (t) => {
    const { apps } = the();
    const template = {
      metadata: { labels: { app: "web" } },
      spec: { containers: [{ name: "app", image: "busybox:1.36" }], restartPolicy: "Always" },
    };
    const jobTemplate = { ...template, spec: { ...template.spec, restartPolicy: "Never" } };
    const selector = { matchLabels: { app: "web" } };
    const workloads = [
      { apiVersion: "apps/v1", kind: "Deployment", spec: { selector, template } },
      {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        spec: { selector, template, serviceName: "web" },
      },
      { apiVersion: "apps/v1", kind: "DaemonSet", spec: { selector, template } },
      { apiVersion: "apps/v1", kind: "ReplicaSet", spec: { selector, template } },
      {
        apiVersion: "v1",
        kind: "ReplicationController",
        spec: { selector: { app: "web" }, template },
      },
      { apiVersion: "batch/v1", kind: "Job", spec: { template: jobTemplate } },
      {
        apiVersion: "batch/v1",
        kind: "CronJob",
        spec: { schedule: "@daily", jobTemplate: { spec: { template: jobTemplate } } },
      },
      { apiVersion: "v1", kind: "PodTemplate", template },
    ];
    for (const workload of workloads) {
      const object = { ...workload, metadata: { name: "web", namespace: apps } };
      t.deepEqual(
        await asked(() =>
          kubectl(["apply", "--dry-run=server", "-f", "-"], JSON.stringify(object)),
        ),
        { mutate: [], validate: [`${workload.kind} CREATE ${apps}/web`] },
        workload.kind,
      );
    }
  },
);

test.serial(
  "a stored Pod: image updates and ephemeral containers go to both; status updates to neither",
  async (t) => {
    const { apps } = the();
    const both = (what: string) => ({ mutate: [what], validate: [what] });
    t.deepEqual(
      await asked(() => kubectl(["apply", `-n=${apps}`, "-f", "-"], pod("stored"))),
      both(`Pod CREATE ${apps}/stored`),
    );
    t.deepEqual(
      await asked(() => kubectl(["set", "image", `-n=${apps}`, "pod/stored", "app=busybox:1.37"])),
      both(`Pod UPDATE ${apps}/stored`),
    );
    t.deepEqual(
      await asked(() =>
        kubectl(["debug", `-n=${apps}`, "stored", "--image=busybox:1.36", "--container=debugger"]),
      ),
      both(`Pod UPDATE/ephemeralcontainers ${apps}/stored`),
    );
    t.deepEqual(
      await asked(() =>
        kubectl([
          "patch",
          `-n=${apps}`,
          "pod/stored",
          "--subresource=status",
          "--type=merge",
          `--patch={"status":{"message":"seen"}}`,
        ]),
      ),
      { mutate: [], validate: [] },
    );
  },
);

test.serial("scaling a Deployment (the scale subresource) goes to neither", async (t) => {
  const { apps } = the();
  t.deepEqual(
    await asked(() =>
      kubectl(["create", "deployment", "web", `-n=${apps}`, "--image=busybox:1.36"]),
    ),
    { mutate: [], validate: [`Deployment CREATE ${apps}/web`] },
  );
  t.deepEqual(
    await asked(() => kubectl(["scale", `-n=${apps}`, "deployment/web", "--replicas=0"])),
    { mutate: [], validate: [] },
  );
});

test.serial(
  "validate-policy: only the policy and pins ConfigMaps of digestpin's namespace go to /validate",
  async (t) => {
    const { ns, apps } = the();
    const configMap = (name: string, namespace: string, labels?: Record<string, string>) =>
      JSON.stringify({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name, namespace, ...(labels === undefined ? {} : { labels }) },
        data: { "pins.yaml": "" },
      });
    const validated = (name: string, operation = "CREATE") => ({
      mutate: [],
      validate: [`ConfigMap ${operation} ${ns}/${name}`],
    });
    const none = { mutate: [], validate: [] };
    const apply = (text: string) => () => kubectl(["apply", "-f", "-"], text);

    t.deepEqual(
      await asked(apply(configMap("digestpin-policy", ns))),
      validated("digestpin-policy"),
    );
    t.deepEqual(
      await asked(apply(configMap("digestpin-pins-auto", ns))),
      validated("digestpin-pins-auto"),
    );
    const pinsLabel = { "digestpin.dev/pins": "true" };
    t.deepEqual(await asked(apply(configMap("team-pins", ns, pinsLabel))), validated("team-pins"));
    // Taking the label off is an edit of a pins ConfigMap too (the old object had it).
    t.deepEqual(
      await asked(() =>
        kubectl(["label", `-n=${ns}`, "configmap/team-pins", "digestpin.dev/pins-"]),
      ),
      validated("team-pins", "UPDATE"),
    );
    t.deepEqual(await asked(apply(configMap("unrelated", ns))), none);
    t.deepEqual(
      await asked(apply(configMap("unrelated", ns, { "digestpin.dev/pins": "no" }))),
      none,
    );
    t.deepEqual(await asked(apply(configMap("digestpin-policy", apps))), none);
    t.deepEqual(await asked(apply(configMap("team-pins", apps, pinsLabel))), none);
  },
);
