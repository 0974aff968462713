import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import test from "ava";
import { KubernetesObjectApi } from "@kubernetes/client-node";
import { reportRow } from "../../helpers/reliability.ts";
import { startTestServer } from "../../helpers/webhook-server.ts";
import { webhookSettings } from "../../helpers/webhook-settings.ts";
import { startControlPlane, type ControlPlane } from "../../harness/kube.ts";
import { teardownList } from "../../harness/kube-shared.ts";
import { createTestCa, tempDir } from "../../harness/testbed.ts";
import { PINNED, UNKNOWN, worldDeps } from "../../property/admission-world.ts";

// Bypass through another mutating webhook: a real API server calls digestpin (the chart's
// webhook settings, files/webhooks.yaml) and a hostile "injector" webhook that runs after it and
// changes the Pod's images. Reinvocation and the validating webhook must catch every change.

const suite = teardownList();
test.after.always(() => suite.run());

type Injection = "none" | "retag" | "sidecar" | "unknown-digest" | "pinned-respelled" | "late";
let injection: Injection = "none";
let cluster: ControlPlane | undefined;
let apps = "";
let injected = 0;
/** Calls in the current case (a reinvocation gets a new uid, so calls are counted per case). */
let calls = 0;

/** The JSON patch the injector answers with, on its first call for a request or a later one. */
function injectorPatch(call: number): object[] {
  if (injection === "late") {
    // First a harmless change (so digestpin is reinvoked and rewrites), then, reinvoked itself
    // after that rewrite, the swap: nothing is reinvoked twice, only validation is left.
    const image = call === 1 ? "docker.io/library/busybox:1.36" : "busybox:evil";
    return [{ op: "replace", path: "/spec/containers/0/image", value: image }];
  }
  if (call > 1) return [];
  switch (injection) {
    case "none":
      return [];
    case "retag":
      return [{ op: "replace", path: "/spec/containers/0/image", value: "busybox:evil" }];
    case "sidecar":
      return [
        { op: "add", path: "/spec/containers/-", value: { name: "sidecar", image: "nginx:1" } },
      ];
    case "unknown-digest":
      return [{ op: "replace", path: "/spec/containers/0/image", value: `busybox@${UNKNOWN}` }];
    case "pinned-respelled":
      return [
        {
          op: "replace",
          path: "/spec/containers/0/image",
          value: "docker.io/library/busybox:1.36",
        },
      ];
  }
}

test.before(async () => {
  cluster = await startControlPlane(suite, { controllerManager: false });
  const own = await cluster.namespace(suite, "digestpin");
  apps = await cluster.namespace(suite, "apps");
  const digestpin = await startTestServer(suite, worldDeps());
  const settings = webhookSettings({
    namespace: own,
    url: digestpin.server.url,
    caBundle: digestpin.caPem,
  });

  const ca = await createTestCa(await tempDir(suite, "injector"), "injector CA");
  const serving = await ca.issue("injector", ["127.0.0.1"]);
  const injector = createServer({ cert: serving.cert, key: serving.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const { request } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        request: { uid: string };
      };
      injected++;
      const patch = injectorPatch(++calls);
      const response = {
        uid: request.uid,
        allowed: true,
        ...(patch.length > 0 && {
          patchType: "JSONPatch",
          patch: Buffer.from(JSON.stringify(patch)).toString("base64"),
        }),
      };
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response }),
      );
    });
  });
  await new Promise<void>((resolve) => injector.listen(0, "127.0.0.1", resolve));
  suite.teardown(
    () =>
      new Promise<void>((resolve) => {
        injector.closeAllConnections();
        injector.close(() => {
          resolve();
        });
      }),
  );
  const port = (injector.address() as AddressInfo).port;
  const objects = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
  await objects.create(settings.mutating);
  await objects.create(settings.validating);
  // Named after digestpin's configuration, so the API server calls it after digestpin.
  await objects.create({
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingWebhookConfiguration",
    metadata: { name: "zz-injector" },
    webhooks: [
      {
        name: "inject.example.com",
        clientConfig: {
          url: `https://127.0.0.1:${port}/inject`,
          caBundle: Buffer.from(ca.caPem).toString("base64"),
        },
        rules: [
          { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] },
        ],
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": apps } },
        failurePolicy: "Fail",
        sideEffects: "None",
        admissionReviewVersions: ["v1"],
        reinvocationPolicy: "IfNeeded",
        timeoutSeconds: 5,
      },
    ],
  } as never);
  const deadline = Date.now() + 30_000;
  while (injected === 0) {
    if (Date.now() > deadline) throw new Error("the webhook configurations never took effect");
    await tryPod();
    await sleep(100);
  }
});

const podYaml = `apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
    - name: app
      image: busybox:1.36
`;

/** `kubectl create --dry-run=server -o json`: every admission webhook runs, nothing is stored. */
async function tryPod(): Promise<{ admitted: boolean; images: string[]; message: string }> {
  const result = await cluster!.kubectl(
    ["create", "--dry-run=server", "-o", "json", `--namespace=${apps}`, "-f", "-"],
    { input: podYaml },
  );
  if (result.exitCode !== 0) return { admitted: false, images: [], message: result.stderr };
  const pod = JSON.parse(result.stdout) as { spec: { containers: { image: string }[] } };
  return { admitted: true, images: pod.spec.containers.map((c) => c.image), message: "" };
}

const cases: {
  injection: Injection;
  what: string;
  admitted: boolean;
  images?: string[];
  denial?: RegExp;
}[] = [
  {
    injection: "none",
    what: "no injector change",
    admitted: true,
    images: [`busybox:1.36@${PINNED}`],
  },
  {
    injection: "retag",
    what: "injector retags the container to an unpinned tag",
    admitted: false,
    denial: /busybox:evil.*not pinned|not pinned.*busybox:evil|busybox:evil/s,
  },
  {
    injection: "sidecar",
    what: "injector adds a sidecar with an unpinned tag",
    admitted: false,
    denial: /nginx:1/,
  },
  {
    injection: "unknown-digest",
    what: "injector swaps in a digest pinned nowhere",
    admitted: false,
    denial: new RegExp(UNKNOWN.slice(0, 20)),
  },
  {
    injection: "pinned-respelled",
    what: "injector respells the pinned tag (docker.io/library/busybox:1.36)",
    admitted: true,
    images: [`docker.io/library/busybox:1.36@${PINNED}`],
  },
  {
    injection: "late",
    what: "injector, reinvoked after digestpin's rewrite, swaps in an unpinned tag",
    admitted: false,
    // Only the validating webhook is left to see it: it does.
    denial: /"validate\.digestpin\.dev" denied.*"busybox:evil".*not pinned/s,
  },
];

for (const c of cases) {
  test.serial(
    `a later mutating webhook cannot slip an image past digestpin: ${c.what}`,
    async (t) => {
      injection = c.injection;
      calls = 0;
      const outcome = await tryPod();
      t.is(outcome.admitted, c.admitted, outcome.message);
      if (c.images !== undefined) t.deepEqual(outcome.images, c.images);
      if (c.denial !== undefined) {
        t.regex(outcome.message, /admission webhook "(mutate|validate)\.digestpin\.dev" denied/);
        t.regex(outcome.message, c.denial);
      }
      const by = /admission webhook "([a-z.]+)" denied/.exec(outcome.message)?.[1];
      reportRow(t, import.meta.url, {
        section: "security",
        subject: `bypass through another mutating webhook (real API server, chart webhook settings, reinvocation IfNeeded): ${c.what}`,
        tried: "kubectl create --dry-run=server of a Pod with busybox:1.36 (pinned)",
        outcome: c.admitted
          ? `admitted as ${outcome.images.join(", ")}`
          : `denied by ${by ?? "?"}: ${(outcome.message.split("denied the request: ")[1] ?? outcome.message).split("\n")[0]!.slice(0, 140)}…`,
      });
    },
  );
}
