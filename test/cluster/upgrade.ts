/**
 * `helm upgrade` of digestpin while Pods keep being created: the rolling update (a new replica
 * ready before an old one stops, the old one finishing its reviews) must cost no admission, and
 * a changed policy must cost no pin digestpin recorded.
 */
import { readFile, writeFile } from "node:fs/promises";
import type { ExecutionContext } from "ava";
import { startAdmissionStream } from "./admission-stream.ts";
import { RELEASE, SYSTEM_NAMESPACE, type Cluster } from "./cluster-suite.ts";
import { CHART_DIR, check, waitForRollout } from "./deploy.ts";
import { runningPods } from "./pods.ts";

export async function upgradeScenario(t: ExecutionContext, env: Cluster): Promise<void> {
  const { core, shell, helm, deployed, streamImage, cluster } = env;
  const namespace = "stream-upgrade";
  t.is((await shell.kubectl(["create", "namespace", namespace])).exitCode, 0);
  const selector = `app.kubernetes.io/instance=${RELEASE}`;
  const before = await runningPods(core, SYSTEM_NAMESPACE, selector);
  const stream = startAdmissionStream(
    env.objects,
    namespace,
    streamImage.ref,
    `${streamImage.ref}@${streamImage.digest}`,
  );
  // The pins recorded with the CLI so far (the attack's approval), in digestpin's pin store.
  const pinsBefore = await pinsInForce(shell);
  t.true(pinsBefore.some((pin) => pin.in.some((where) => where.endsWith("/digestpin-pins-000"))));
  // The policy as changed in Git (one line more): Helm rewrites policy.yaml.
  const changedPolicy = `${deployed.policyFile}.upgraded`;
  await writeFile(
    changedPolicy,
    `${await readFile(deployed.policyFile, "utf8")}# changed for the upgrade\n`,
  );
  const started = Date.now();
  // The same values as the install, a changed policy and a changed Pod annotation: every
  // replica is replaced.
  const upgraded = await helm([
    "upgrade",
    RELEASE,
    CHART_DIR,
    `--namespace=${SYSTEM_NAMESPACE}`,
    `--values=${deployed.valuesFile}`,
    `--set-file=policy.document=${changedPolicy}`,
    "--set=podAnnotations.digestpin\\.dev/rollout=upgrade",
    "--wait",
    "--timeout=10m",
  ]);
  check("helm upgrade", upgraded);
  await waitForRollout(cluster.kubeConfig, SYSTEM_NAMESPACE, RELEASE);
  const upgradeMs = Date.now() - started;
  // Reviews keep coming a little longer: the old replicas' Service endpoints are gone by now.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const result = await stream.stop();
  t.log(
    `upgrade rolled out in ${(upgradeMs / 1000).toFixed(1)} s; ${result.created} Pods created meanwhile`,
  );

  t.deepEqual(result.failures, []);
  t.deepEqual(result.unpinned, []);
  t.true(result.created >= 10, `only ${result.created} Pods were created`);
  const after = await runningPods(core, SYSTEM_NAMESPACE, selector);
  t.is(after.length, 2);
  const oldNames = new Set(before.map((pod) => pod.metadata?.name));
  t.true(
    after.every((pod) => !oldNames.has(pod.metadata?.name)),
    "every replica was replaced",
  );
  t.true(after.every((pod) => pod.metadata?.annotations?.["digestpin.dev/rollout"] === "upgrade"));
  t.true(after.every((pod) => pod.status?.containerStatuses?.[0]?.restartCount === 0));
  // Helm replaced the policy; every pin digestpin recorded is still in force.
  const policy = await shell.kubectl([
    "get",
    "configmap",
    "digestpin-policy",
    "-n",
    SYSTEM_NAMESPACE,
    "-o",
    "jsonpath={.data.policy\\.yaml}",
  ]);
  t.true(policy.output.includes("# changed for the upgrade"), policy.output);
  t.deepEqual(await pinsInForce(shell), pinsBefore);
}

/** `digestpin pins list -o json`: every pin in force and where it is kept. */
async function pinsInForce(
  shell: Cluster["shell"],
): Promise<{ key: string; digest: string; in: string[] }[]> {
  const listed = await shell.digestpin(["pins", "list", "-o", "json"]);
  if (listed.exitCode !== 0) throw new Error(`pins list: ${listed.output}`);
  return JSON.parse(listed.output) as { key: string; digest: string; in: string[] }[];
}
