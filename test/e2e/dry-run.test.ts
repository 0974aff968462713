import test from "ava";
import { podManifest, tryCreate, workloadManifest, yamlDocuments } from "../harness/e2e-objects.ts";
import { PIN_STORE_SHARD, sharedE2e, SYSTEM_NAMESPACE, type E2e } from "../harness/e2e-suite.ts";
import type { Pushed } from "../harness/testbed.ts";

// Scenario 2: `kubectl apply --dry-run=server` of workloads shows digestpin's verdicts (the
// validating webhook checks pod templates as written), as denials in enforce mode and as
// warnings in warn mode; a dry-run records no trust-on-first-use pin.
const e2e = sharedE2e(test, { name: "dry-run" });

const KINDS = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"] as const;

interface Images {
  readonly good: string;
  readonly drifted: string;
  readonly unpinned: string;
  readonly goodPushed: Pushed;
  readonly driftedPinned: Pushed;
  readonly driftedNow: Pushed;
  readonly unpinnedPushed: Pushed;
}

let images: Promise<Images> | undefined;

/** Three images: pinned at what the registry serves, pinned before a re-push, not pinned. */
function threeImages(env: E2e): Promise<Images> {
  images ??= (async () => {
    const good = env.registry.ref("shop/web:1.4");
    const drifted = env.registry.ref("shop/api:3.1");
    const unpinned = env.registry.ref("shop/worker:2.0");
    const goodPushed = await env.crane.pushRandomImage(good);
    const driftedPinned = await env.crane.pushRandomImage(drifted);
    const driftedNow = await env.crane.repush(drifted);
    const unpinnedPushed = await env.crane.pushRandomImage(unpinned);
    return { good, drifted, unpinned, goodPushed, driftedPinned, driftedNow, unpinnedPushed };
  })();
  return images;
}

function pins(
  i: Images,
): Record<string, { digest: string; pinnedAt: string; pinnedBy: string; reason: string }> {
  const pin = (digest: string) => ({
    digest,
    pinnedAt: "2026-11-20T09:12:00Z",
    pinnedBy: "alice@example.com",
    reason: "release reviewed",
  });
  return { [i.good]: pin(i.goodPushed.digest), [i.drifted]: pin(i.driftedPinned.digest) };
}

/** The walkthrough's manifests: a verdict of each kind. */
function workloadsYaml(i: Images): string {
  return yamlDocuments(
    workloadManifest("Deployment", "web", { web: i.good }),
    workloadManifest("StatefulSet", "api", { api: i.drifted }),
    workloadManifest("DaemonSet", "worker", { worker: i.unpinned }),
    workloadManifest("Job", "migrate", { migrate: i.good }),
    workloadManifest("CronJob", "report", { report: i.drifted, worker: i.unpinned }),
  );
}

test.serial(
  "enforce mode: every kind's dry-run is denied for a drifted or unpinned image and admitted for a good one",
  async (t) => {
    const env = e2e();
    const i = await threeImages(env);
    await env.setPolicy(env.policy({ pins: pins(i) }));
    const namespace = await env.namespace(t, "shop");

    // Each kind with each image through the API: the verdict and the message.
    for (const kind of KINDS) {
      for (const [variant, image] of [
        ["good", i.good],
        ["drifted", i.drifted],
        ["unpinned", i.unpinned],
      ] as const) {
        const object = workloadManifest(
          kind,
          `${variant}-${kind.toLowerCase()}`,
          { app: image },
          { namespace },
        );
        const created = await tryCreate(env.objects, object, { dryRun: true });
        if (variant === "good") {
          t.true(created.allowed, `${kind} ${variant}: ${created.allowed ? "" : created.message}`);
          // Validated, not rewritten: the template keeps its tag (--mutate-templates is off).
          if (created.allowed)
            t.true(JSON.stringify(created.object).includes(`"image":"${image}"`));
          continue;
        }
        t.false(created.allowed, `${kind} ${variant}`);
        if (created.allowed) continue;
        t.is(created.code, 403);
        const expected =
          variant === "drifted"
            ? `admission webhook "validate.digestpin.dev" denied the request: containers[app]: image "${image}": the tag moved. ${image} is pinned to ${i.driftedPinned.digest}`
            : `admission webhook "validate.digestpin.dev" denied the request: containers[app]: image "${image}": ${image} is not pinned, and the policy denies unpinned images (unpinned: deny).`;
        t.true(created.message.startsWith(expected), `${kind} ${variant}: ${created.message}`);
      }
    }

    // The walkthrough: one file, one dry-run, every verdict; nothing stored.
    const sh = await env.shell(t);
    await sh.write("workloads.yaml", workloadsYaml(i));
    const dryRun = await sh.kubectl([
      "apply",
      "--dry-run=server",
      "-n",
      namespace,
      "-f",
      "workloads.yaml",
    ]);
    t.is(dryRun.exitCode, 1);
    const lines = dryRun.output.trimEnd().split("\n");
    t.deepEqual(lines.slice(0, 2), [
      "deployment.apps/web created (server dry run)",
      "job.batch/migrate created (server dry run)",
    ]);
    const errors = dryRun.output.slice(dryRun.output.indexOf("Error from server"));
    t.regex(
      errors,
      /error when creating "workloads.yaml": admission webhook "validate.digestpin.dev" denied the request: containers\[api\]: image "[^"]+": the tag moved\./,
    );
    t.true(errors.includes(`but the registry now serves ${i.driftedNow.digest}`));
    t.is(errors.match(/^Error from server \(Forbidden\)/gm)?.length, 3, errors);
    t.true(
      errors.includes(`containers[worker]: image "${i.unpinned}": ${i.unpinned} is not pinned`),
    );
    t.true(errors.includes(`containers[report]: image "${i.drifted}": the tag moved.`));
    const listed = await sh.kubectl([
      "get",
      "deployments,statefulsets,daemonsets,jobs,cronjobs",
      "-n",
      namespace,
    ]);
    t.deepEqual(
      [listed.exitCode, listed.output],
      [0, `No resources found in ${namespace} namespace.\n`],
    );
    env.transcript.file("dry-run-workloads", "workloads.yaml", workloadsYaml(i));
    env.transcript.console("dry-run-enforce", dryRun, listed);
  },
);

test.serial(
  "warn mode: the same dry-run is admitted, with a warning per denied image",
  async (t) => {
    const env = e2e();
    const i = await threeImages(env);
    await env.setPolicy(env.policy({ mode: "warn", pins: pins(i) }));
    const namespace = await env.namespace(t, "shop-warn");
    const sh = await env.shell(t);
    await sh.write("workloads.yaml", workloadsYaml(i));
    const dryRun = await sh.kubectl([
      "apply",
      "--dry-run=server",
      "-n",
      namespace,
      "-f",
      "workloads.yaml",
    ]);
    t.is(dryRun.exitCode, 0, dryRun.output);
    const lines = dryRun.output.trimEnd().split("\n");
    const created = lines.filter((line) => !line.startsWith("Warning: "));
    t.deepEqual(created, [
      "deployment.apps/web created (server dry run)",
      "statefulset.apps/api created (server dry run)",
      "daemonset.apps/worker created (server dry run)",
      "job.batch/migrate created (server dry run)",
      "cronjob.batch/report created (server dry run)",
    ]);
    const warnings = lines.filter((line) => line.startsWith("Warning: "));
    // StatefulSet api: drift; DaemonSet worker: unpinned; CronJob report: both again, which
    // kubectl prints once (it deduplicates warnings).
    t.is(warnings.length, 2, dryRun.output);
    t.true(
      warnings[0]!.startsWith(
        `Warning: would deny ${i.drifted}: tag moved: pinned ${i.driftedPinned.digest.slice(0, 19)}, registry serves ${i.driftedNow.digest.slice(0, 19)}`,
      ),
      dryRun.output,
    );
    t.is(
      warnings[1],
      `Warning: would deny ${i.unpinned}: ${i.unpinned} is not pinned (mode: warn)`,
    );
    t.is(lines.indexOf(warnings[0]!), 1, dryRun.output);
    env.transcript.console("dry-run-warn", dryRun);
  },
);

test.serial(
  "trust-on-first-use: a dry-run shows the digest it would pin and records nothing",
  async (t) => {
    const env = e2e();
    const i = await threeImages(env);
    await env.setPolicy(env.policy({ unpinned: "trust-on-first-use", pins: pins(i) }));
    const namespace = await env.namespace(t, "shop-tofu");
    const sh = await env.shell(t);
    await sh.write(
      "worker.yaml",
      yamlDocuments(podManifest("worker", undefined, { containers: { worker: i.unpinned } })),
    );
    const pod = await sh.kubectl([
      "apply",
      "--dry-run=server",
      "-n",
      namespace,
      "-f",
      "worker.yaml",
      "-o",
      'jsonpath={.spec.containers[0].image}{"\\n"}',
    ]);
    t.is(pod.exitCode, 0, pod.output);
    const podLines = pod.output.trimEnd().split("\n");
    t.deepEqual(podLines, [
      `Warning: dry run: would pin ${i.unpinned} to ${i.unpinnedPushed.digest.slice(0, 19)} (trust-on-first-use)`,
      `${i.unpinned}@${i.unpinnedPushed.digest}`,
    ]);
    await sh.write("workloads.yaml", workloadsYaml(i));
    const workloads = await sh.kubectl([
      "apply",
      "--dry-run=server",
      "-n",
      namespace,
      "-f",
      "workloads.yaml",
    ]);
    // Drift still denies; the unpinned image would be pinned on first use.
    t.is(workloads.exitCode, 1, workloads.output);
    t.true(
      workloads.output.includes("daemonset.apps/worker created (server dry run)"),
      workloads.output,
    );
    t.true(
      workloads.output.includes(`Warning: dry run: would pin ${i.unpinned}`),
      workloads.output,
    );

    const autoPins = await sh.kubectl([
      "get",
      "configmap",
      PIN_STORE_SHARD,
      "-n",
      SYSTEM_NAMESPACE,
    ]);
    t.deepEqual(
      [autoPins.exitCode, autoPins.output],
      [1, `Error from server (NotFound): configmaps "${PIN_STORE_SHARD}" not found\n`],
    );
    t.false((await env.policyText()).includes(i.unpinned));
    // The same Pod without --dry-run is pinned on first use, and the pin recorded.
    const created = await tryCreate(
      env.objects,
      podManifest("worker", namespace, { containers: { worker: i.unpinned } }),
    );
    t.true(created.allowed, created.allowed ? "" : created.message);
    const recorded = await env.core.readNamespacedConfigMap({
      name: PIN_STORE_SHARD,
      namespace: SYSTEM_NAMESPACE,
    });
    t.true(
      recorded.data?.["pins.yaml"]?.includes(
        `${i.unpinned}:\n    digest: ${i.unpinnedPushed.digest}`,
      ),
      recorded.data?.["pins.yaml"],
    );
    env.transcript.console("dry-run-tofu", pod, autoPins);
  },
);
