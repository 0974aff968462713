import test from "ava";
import { parse } from "yaml";
import { podManifest, tryCreate, yamlDocuments } from "../harness/e2e-objects.ts";
import type { Shell } from "../harness/e2e-shell.ts";
import { PIN_STORE_SHARD, sharedE2e, SYSTEM_NAMESPACE, type E2e } from "../harness/e2e-suite.ts";
import { waitFor } from "../harness/wait.ts";

// Scenario 1: the attack of /work/shared/seed-mutable-tags.md ("harmless:1.0" re-pushed with new
// content), end to end: pin, deploy, re-push, denial (also on a dry-run), approval by a
// ConfigMap edit and by `digestpin approve`, Pods created earlier untouched.
const e2e = sharedE2e(test, { name: "attack" });

interface PinFields {
  readonly digest: string;
  readonly history?: readonly Record<string, string>[];
}

const podYaml = (name: string, image: string): string =>
  yamlDocuments(podManifest(name, undefined, { containers: { web: image } }));

/** Creates the Pod in a dry-run every 20 ms until it is admitted; the milliseconds it took. */
async function untilAdmitted(env: E2e, namespace: string, image: string): Promise<number> {
  const started = performance.now();
  const probe = podManifest("approval-probe", namespace, { containers: { web: image } });
  await waitFor(
    "the approval to take effect",
    async () =>
      (await tryCreate(env.objects, probe, { dryRun: true })).allowed ? true : undefined,
    5000,
  );
  return Math.round(performance.now() - started);
}

async function storedImage(sh: Shell, namespace: string, pod: string): Promise<string> {
  const run = await sh.kubectl([
    "get",
    "pod",
    pod,
    "-n",
    namespace,
    "-o",
    "jsonpath={.spec.containers[0].image}",
  ]);
  return run.output;
}

test.serial(
  "a re-pushed tag is denied with both digests and how to approve; approval by kubectl patch and by digestpin approve takes effect within 2 s; earlier Pods keep their digest",
  async (t) => {
    const env = e2e();
    const { crane, registry, transcript } = env;
    await env.setPolicy(env.policy());
    const namespace = await env.namespace(t, "shop");
    const sh = await env.shell(t);
    await sh.write("registry-ca.pem", registry.caPem);
    const image = registry.ref("martes13/harmless:1.0");
    const harmless = await crane.pushFiles(image, { harmless: "" });

    // Pin it against the cluster (into digestpin's pin store), then deploy it.
    const generation = await env.webhook.metric("digestpin_policy_generation");
    const pin = await sh.digestpin([
      "pin",
      image,
      "--reason",
      "reviewed release 1.0",
      "--ca-file",
      "registry-ca.pem",
    ]);
    t.is(pin.exitCode, 0, pin.output);
    t.is(
      pin.output,
      `pinned  ${image} ${harmless.digest}\n` +
        `1 pinned, 0 unchanged, 0 refused, 0 failed (configmap ${SYSTEM_NAMESPACE}/${PIN_STORE_SHARD})\n`,
    );
    await waitFor("the pin to be in force", async () =>
      (await env.webhook.metric("digestpin_policy_generation")) > generation ? true : undefined,
    );
    await sh.write("web-1.yaml", podYaml("web-1", image));
    const first = await sh.kubectl(["apply", "-n", namespace, "-f", "web-1.yaml"]);
    t.deepEqual([first.exitCode, first.output], [0, "pod/web-1 created\n"]);
    const firstImage = await sh.kubectl([
      "get",
      "pod",
      "web-1",
      "-n",
      namespace,
      "-o",
      'jsonpath={.spec.containers[0].image}{"\\n"}',
    ]);
    t.is(firstImage.output, `${image}@${harmless.digest}\n`);
    transcript.file("attack-pod", "web-1.yaml", podYaml("web-1", image));
    transcript.console("attack-pin", pin, first, firstImage);

    // The attack: new content under the same tag.
    const harmful = await crane.pushFiles(image, { harmless: "", harmful: "" });
    t.not(harmful.digest, harmless.digest);
    await sh.write("web-2.yaml", podYaml("web-2", image));
    const denied = await sh.kubectl(["apply", "-n", namespace, "-f", "web-2.yaml"]);
    const key = image; // already canonical: registry host, repository, tag
    const message =
      `admission webhook "mutate.digestpin.dev" denied the request: containers[web]: ` +
      `image "${image}": the tag moved. ${key} is pinned to ${harmless.digest} ` +
      `(pinned at `;
    t.is(denied.exitCode, 1);
    t.true(
      denied.output.startsWith(
        `Error from server (Forbidden): error when creating "web-2.yaml": ${message}`,
      ),
      denied.output,
    );
    // (What follows it, if anything, is for the drift file-diff to say.)
    t.true(
      denied.output.includes(
        ` by alice@laptop, reason "reviewed release 1.0"), but the registry now serves ${harmful.digest}. ` +
          `Review the new image; to accept it run digestpin approve ${key} --digest ${harmful.digest} ` +
          `--reason "…"; to deploy the reviewed image meanwhile, use ${image}@${harmless.digest}.`,
      ),
      denied.output,
    );
    t.is(denied.output.split("\n").length, 2, denied.output); // one line, one image

    // The same verdict from a server-side dry-run, and nothing stored.
    const dryRun = await sh.kubectl([
      "apply",
      "--dry-run=server",
      "-n",
      namespace,
      "-f",
      "web-2.yaml",
    ]);
    t.is(dryRun.exitCode, 1);
    t.is(dryRun.output, denied.output);
    const notStored = await sh.kubectl(["get", "pod", "web-2", "-n", namespace]);
    t.deepEqual(
      [notStored.exitCode, notStored.output],
      [1, `Error from server (NotFound): pods "web-2" not found\n`],
    );
    transcript.console("attack-denied", denied, dryRun, notStored);

    // The drift is also on record where the Pod's people look: a TagDrift Event in its
    // namespace, on the Pod that was denied.
    const driftEvent = await waitFor("a TagDrift Event in the Pod's namespace", async () => {
      const listed = await sh.kubectl([
        "get",
        "events",
        "-n",
        namespace,
        "--field-selector",
        "reason=TagDrift,involvedObject.kind=Pod,involvedObject.name=web-2",
        "-o",
        "jsonpath={.items[*].message}",
      ]);
      return listed.output.includes(harmful.digest) ? listed.output : undefined;
    });
    t.is(
      driftEvent,
      `${key} moved: pinned to ${harmless.digest}, the registry now serves ${harmful.digest}. ` +
        `Pod web-2 containers[web] was denied. Review the new image with 'digestpin diff ${key}'; ` +
        `to accept it run digestpin approve ${key} --digest ${harmful.digest} --reason "…".`,
    );

    // Approval 1: a person edits the pin where it is kept (here: kubectl patch of the pin
    // store's ConfigMap with the new digest).
    const storeText = async () =>
      (
        await env.core.readNamespacedConfigMap({
          name: PIN_STORE_SHARD,
          namespace: SYSTEM_NAMESPACE,
        })
      ).data?.["pins.yaml"] ?? "";
    const policy = await storeText();
    t.true(policy.includes(harmless.digest));
    // By hand, as in `kubectl edit`: the new digest, and why.
    const approved = policy
      .replace(harmless.digest, harmful.digest)
      .replace("reason: reviewed release 1.0", "reason: harmful file reviewed, accepted by hand");
    t.not(approved, policy.replace(harmless.digest, harmful.digest));
    await sh.write("approve.json", JSON.stringify({ data: { "pins.yaml": approved } }));
    const patched = await sh.kubectl([
      "patch",
      "configmap",
      PIN_STORE_SHARD,
      "-n",
      SYSTEM_NAMESPACE,
      "--type=merge",
      "--patch-file=approve.json",
    ]);
    t.deepEqual([patched.exitCode, patched.output], [0, `configmap/${PIN_STORE_SHARD} patched\n`]);
    const patchLatency = await untilAdmitted(env, namespace, image);
    t.log(`approval by kubectl patch took effect after ${patchLatency} ms`);
    t.true(patchLatency < 2000, `${patchLatency} ms`);
    const second = await sh.kubectl(["apply", "-n", namespace, "-f", "web-2.yaml"]);
    t.deepEqual([second.exitCode, second.output], [0, "pod/web-2 created\n"]);
    t.is(await storedImage(sh, namespace, "web-2"), `${image}@${harmful.digest}`);
    t.is(await storedImage(sh, namespace, "web-1"), `${image}@${harmless.digest}`);

    // The attack again; approval 2: digestpin approve, after a look at the diff.
    const again = await crane.pushFiles(image, { harmless: "", harmful: "", worse: "" });
    await sh.write("web-3.yaml", podYaml("web-3", image));
    const deniedAgain = await sh.kubectl(["apply", "-n", namespace, "-f", "web-3.yaml"]);
    t.is(deniedAgain.exitCode, 1);
    t.true(deniedAgain.output.includes(`is pinned to ${harmful.digest}`), deniedAgain.output);
    t.true(
      deniedAgain.output.includes(`digestpin approve ${key} --digest ${again.digest} --reason`),
      deniedAgain.output,
    );
    const diff = await sh.digestpin(["diff", image, "--ca-file", "registry-ca.pem"]);
    t.is(diff.exitCode, 1, diff.output);
    t.true(diff.output.startsWith(`${key}: the tag moved\n`), diff.output);
    const approve = await sh.digestpin([
      "approve",
      image,
      "--digest",
      again.digest,
      "--reason",
      "diff reviewed: expected files only",
      "--ca-file",
      "registry-ca.pem",
    ]);
    t.is(approve.exitCode, 0, approve.output);
    const approveLatency = await untilAdmitted(env, namespace, image);
    t.log(`approval by digestpin approve took effect after ${approveLatency} ms`);
    t.true(approveLatency < 2000, `${approveLatency} ms`);
    const third = await sh.kubectl(["apply", "-n", namespace, "-f", "web-3.yaml"]);
    t.deepEqual([third.exitCode, third.output], [0, "pod/web-3 created\n"]);

    // Every Pod runs exactly the digest that was approved when it was created.
    const pods = await sh.kubectl([
      "get",
      "pods",
      "-n",
      namespace,
      "-o",
      "custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[0].image",
    ]);
    t.deepEqual(
      pods.output
        .trim()
        .split("\n")
        .slice(1)
        .map((line) => line.split(/\s+/)),
      [
        ["web-1", `${image}@${harmless.digest}`],
        ["web-2", `${image}@${harmful.digest}`],
        ["web-3", `${image}@${again.digest}`],
      ],
    );
    const history = await sh.kubectl([
      "get",
      "configmap",
      PIN_STORE_SHARD,
      "-n",
      SYSTEM_NAMESPACE,
      "-o",
      "jsonpath={.data.pins\\.yaml}",
    ]);
    // The approval kept the digest it replaced, with who, when and why.
    const record = (parse(history.output) as { pins: Record<string, PinFields | undefined> }).pins[
      key
    ];
    t.is(record?.digest, again.digest);
    t.like(record?.history?.[0], {
      digest: harmful.digest,
      reason: "harmful file reviewed, accepted by hand",
      replacedBy: "alice@laptop",
      replaceReason: "diff reviewed: expected files only",
    });
    transcript.console("attack-approve-patch", patched, second);
    transcript.console("attack-approve-cli", deniedAgain, diff, approve, third, pods);
    transcript.console("attack-history", history);
  },
);

test.serial(
  "with the default cacheTTL (30 s) an approval takes effect at once, though the webhook just cached the old digest",
  async (t) => {
    const env = e2e();
    const { crane, registry } = env;
    const namespace = await env.namespace(t, "shop-cached");
    const sh = await env.shell(t);
    await sh.write("registry-ca.pem", registry.caPem);
    const image = registry.ref("martes13/harmless:2.0");
    const first = await crane.pushFiles(image, { harmless: "2.0" });
    await env.setPolicy(env.policy({ cacheTTL: "30s", pins: { [image]: first.digest } }));
    const pod = (name: string) => podManifest(name, namespace, { containers: { web: image } });
    const before = await tryCreate(env.objects, pod("before"));
    t.true(before.allowed);

    // Re-pushed: within cacheTTL the webhook still goes by the answer it has (the pinned digest).
    const second = await crane.pushFiles(image, { harmless: "2.0", harmful: "" });
    const cached = await tryCreate(env.objects, pod("cached"));
    t.true(cached.allowed);
    if (cached.allowed) t.is(cached.object.spec.containers[0].image, `${image}@${first.digest}`);

    const approve = await sh.digestpin([
      "approve",
      image,
      "--digest",
      second.digest,
      "--reason",
      "reviewed",
      "--ca-file",
      "registry-ca.pem",
    ]);
    t.is(approve.exitCode, 0, approve.output);
    const latency = await untilAdmitted(env, namespace, image);
    t.log(`approval with a warm cache took effect after ${latency} ms`);
    t.true(latency < 2000, `${latency} ms`);
    const after = await tryCreate(env.objects, pod("after"));
    t.true(after.allowed);
    if (after.allowed) t.is(after.object.spec.containers[0].image, `${image}@${second.digest}`);
  },
);
