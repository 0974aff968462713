import test from "ava";
import { KubernetesObjectApi } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { podManifest, workloadManifest } from "../harness/e2e-objects.ts";
import { teardownList } from "../harness/kube-shared.ts";
import { startTestWebhook, type TestWebhook } from "../harness/kube-test-webhook.ts";
import { startControlPlane, type ControlPlane } from "../harness/kube.ts";
import { waitFor } from "../harness/wait.ts";
import { webhookSettings } from "../helpers/webhook-settings.ts";

// The chart's webhook rules and matchConditions (files/webhooks.yaml, as shipped), registered
// with a webhook that records what the real API server sends it: only CREATEs and the UPDATEs
// that change an image reach digestpin; relabelling, annotating, finalizers, scaling, status
// and deletes never do, so they keep working while digestpin is down.
const SYSTEM = "digestpin-system";

interface Env {
  readonly cluster: ControlPlane;
  readonly hook: TestWebhook;
  readonly namespace: string;
}

const suite = teardownList();
test.after.always(() => suite.run());

let shared: Env | undefined;
test.before(async () => {
  const cluster = await startControlPlane(suite, { controllerManager: false });
  const hook = await startTestWebhook(suite, () => ({ allowed: true }));
  const objects = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
  const settings = webhookSettings({
    namespace: SYSTEM,
    url: hook.url.replace(/\/validate$/, ""),
    caBundle: hook.caPem,
    mutateTemplates: true,
  });
  await objects.create(settings.mutating as never);
  await objects.create(settings.validating as never);
  const namespace = await cluster.namespace(suite, "shop");
  // The configurations are in force once a dry-run Pod reaches the webhook.
  await waitFor("the webhooks to be called", async () => {
    const before = hook.reviews.length;
    await cluster.kubectl(["apply", "--dry-run=server", "-n", namespace, "-f", "-"], {
      input: stringify(podManifest("probe", namespace, { containers: { app: "app:1" } })),
    });
    return hook.reviews.length > before ? true : undefined;
  });
  shared = { cluster, hook, namespace };
});

/** The reviews the webhook got while `fn` ran, as `OPERATION kind[/subresource]`. */
async function reviewsDuring(fn: () => Promise<unknown>): Promise<string[]> {
  const { hook } = shared!;
  const before = hook.reviews.length;
  await fn();
  return hook.reviews.slice(before).map((review) => {
    const r = review as unknown as {
      operation: string;
      kind: { kind: string };
      subResource?: string;
    };
    return `${r.operation} ${r.kind.kind}${r.subResource === undefined ? "" : `/${r.subResource}`}`;
  });
}

async function kubectl(args: string[], input?: string): Promise<void> {
  const { cluster, namespace } = shared!;
  const result = await cluster.kubectl(
    ["-n", namespace, ...args],
    input === undefined ? {} : { input },
  );
  if (result.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr}`);
}

test.serial(
  "a Pod: created and image changes reach the webhook; labels, annotations, finalizers, status and delete do not",
  async (t) => {
    const { namespace } = shared!;
    const pod = podManifest("web", namespace, { containers: { app: "app:1" } });
    t.deepEqual(await reviewsDuring(() => kubectl(["apply", "-f", "-"], stringify(pod))), [
      "CREATE Pod",
      "CREATE Pod",
    ]);
    t.deepEqual(
      await reviewsDuring(async () => {
        await kubectl(["label", "pod", "web", "tier=front"]);
        await kubectl(["annotate", "pod", "web", "note=x"]);
        await kubectl([
          "patch",
          "pod",
          "web",
          "--type=merge",
          "-p",
          '{"metadata":{"finalizers":["example.com/hold"]}}',
        ]);
        await kubectl([
          "patch",
          "pod",
          "web",
          "--type=merge",
          "-p",
          '{"metadata":{"finalizers":null}}',
        ]);
        await kubectl([
          "patch",
          "pod",
          "web",
          "--subresource=status",
          "--type=merge",
          "-p",
          '{"status":{"message":"x"}}',
        ]);
        await kubectl([
          "patch",
          "pod",
          "web",
          "--type=merge",
          "-p",
          '{"spec":{"activeDeadlineSeconds":600}}',
        ]);
      }),
      [],
    );
    t.deepEqual(await reviewsDuring(() => kubectl(["set", "image", "pod/web", "app=app:2"])), [
      "UPDATE Pod",
      "UPDATE Pod",
    ]);
    const ephemeral = {
      spec: { ephemeralContainers: [{ name: "debug", image: "busybox:1.36" }] },
    };
    t.deepEqual(
      await reviewsDuring(() =>
        kubectl([
          "patch",
          "pod",
          "web",
          "--subresource=ephemeralcontainers",
          "--type=strategic",
          "-p",
          JSON.stringify(ephemeral),
        ]),
      ),
      ["UPDATE Pod/ephemeralcontainers", "UPDATE Pod/ephemeralcontainers"],
    );
    t.deepEqual(await reviewsDuring(() => kubectl(["delete", "pod", "web", "--wait=false"])), []);
  },
);

test.serial(
  "workloads: created and image changes reach the webhook; annotating, scaling and a rollout restart do not",
  async (t) => {
    const { namespace } = shared!;
    const deployment = workloadManifest("Deployment", "web", { app: "app:1" }, { namespace });
    t.deepEqual(await reviewsDuring(() => kubectl(["apply", "-f", "-"], stringify(deployment))), [
      "CREATE Deployment",
      "CREATE Deployment",
    ]);
    t.deepEqual(
      await reviewsDuring(async () => {
        await kubectl(["annotate", "deployment", "web", "note=x"]);
        await kubectl(["scale", "deployment", "web", "--replicas=3"]);
        await kubectl(["rollout", "restart", "deployment/web"]);
        await kubectl(["label", "deployment", "web", "tier=front"]);
      }),
      [],
    );
    t.deepEqual(
      await reviewsDuring(() => kubectl(["set", "image", "deployment/web", "app=app:2"])),
      ["UPDATE Deployment", "UPDATE Deployment"],
    );
    const volume = {
      spec: { template: { spec: { volumes: [{ name: "data", image: { reference: "data:1" } }] } } },
    };
    t.deepEqual(
      await reviewsDuring(() =>
        kubectl(["patch", "deployment", "web", "--type=strategic", "-p", JSON.stringify(volume)]),
      ),
      ["UPDATE Deployment", "UPDATE Deployment"],
      "an image volume is an image",
    );

    const cronJob = workloadManifest("CronJob", "nightly", { job: "job:1" }, { namespace });
    await kubectl(["apply", "-f", "-"], stringify(cronJob));
    t.deepEqual(
      await reviewsDuring(() =>
        kubectl([
          "patch",
          "cronjob",
          "nightly",
          "--type=merge",
          "-p",
          '{"spec":{"schedule":"5 4 * * *"}}',
        ]),
      ),
      [],
    );
    t.deepEqual(
      await reviewsDuring(() => kubectl(["set", "image", "cronjob/nightly", "job=job:2"])),
      ["UPDATE CronJob", "UPDATE CronJob"],
    );
  },
);
