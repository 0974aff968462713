/**
 * The attack of the project's seed post on a cluster with a node: a pinned tag runs, is re-pushed
 * with a harmful file, new direct Pods are refused while a Deployment's scale-up runs at the pin
 * (drift-controller-pods.ts), `digestpin diff --files` shows the file, the new digest is
 * approved, and new Pods then run it. Every digest asserted is the one the node pulled.
 */
import type { ExecutionContext } from "ava";
import type { Cluster } from "./cluster-suite.ts";
import { assertControllerPodsOnDrift } from "./drift-controller-pods.ts";
import {
  deploymentYaml,
  imageIds,
  podYaml,
  repositoryOf,
  runningPods,
  untilAdmitted,
  waitRunning,
} from "./pods.ts";
import { waitFor } from "../harness/wait.ts";

export async function attackScenario(t: ExecutionContext, env: Cluster): Promise<void> {
  const { shell, images, registry, core } = env;
  const namespace = "shop";
  t.is((await shell.kubectl(["create", "namespace", namespace])).exitCode, 0);
  const image = registry.ref("martes13/harmless:1.0");
  const repository = repositoryOf(image);
  const harmless = await images.push(image, { layers: [{ harmless: "" }] });
  const pin = await shell.digestpin([
    "pin",
    image,
    "--reason",
    "reviewed release 1.0",
    "--ca-file",
    "registry-ca.pem",
  ]);
  t.is(pin.exitCode, 0, pin.output);

  // Deployed while pinned: a Pod and a Deployment's Pod run the pinned digest.
  await shell.write("web-1.yaml", podYaml("web-1", image));
  await shell.write("web.yaml", deploymentYaml("web", image, 1));
  await untilAdmitted(shell, namespace, "web-1.yaml");
  t.is((await shell.kubectl(["apply", "-n", namespace, "-f", "web-1.yaml"])).exitCode, 0);
  t.is((await shell.kubectl(["apply", "-n", namespace, "-f", "web.yaml"])).exitCode, 0);
  const web1 = await waitRunning(core, namespace, "web-1");
  t.deepEqual(imageIds(web1), [`${repository}@${harmless.digest}`]);
  const [deployed] = await waitFor(
    "the Deployment's Pod to run",
    async () => {
      const pods = await runningPods(core, namespace, "app=web");
      return pods.length === 1 ? pods : undefined;
    },
    300_000,
    500,
  );
  t.deepEqual(imageIds(deployed!), [`${repository}@${harmless.digest}`]);

  // The attack: the same tag, one more layer with /harmful.
  const harmful = await images.push(image, {
    layers: [{ harmless: "" }, { harmful: "#!/bin/sh\n" }],
  });
  t.not(harmful.digest, harmless.digest);

  // A new Pod is refused, with both digests and how to approve.
  await shell.write("web-2.yaml", podYaml("web-2", image));
  const denied = await shell.kubectl(["apply", "-n", namespace, "-f", "web-2.yaml"]);
  t.is(denied.exitCode, 1);
  t.true(
    denied.output.startsWith(
      `Error from server (Forbidden): error when creating "web-2.yaml": admission webhook ` +
        `"mutate.digestpin.dev" denied the request: containers[app]: image "${image}": the tag moved. ` +
        `${image} is pinned to ${harmless.digest}`,
    ),
    denied.output,
  );
  t.true(denied.output.includes(`the registry now serves ${harmful.digest}`), denied.output);

  // Controller Pods (the one place that says what they do): scale the Deployment up.
  t.is(
    (await shell.kubectl(["scale", "-n", namespace, "deployment/web", "--replicas=2"])).exitCode,
    0,
  );
  const scaledUpDigest = await assertControllerPodsOnDrift(t, env, {
    namespace,
    deployment: "web",
    image,
    pinned: harmless.digest,
    moved: harmful.digest,
  });

  // The review: what the new image adds.
  const diff = await shell.digestpin(["diff", image, "--files", "--ca-file", "registry-ca.pem"]);
  t.regex(diff.output, /^ {2}\+ \/harmful {2}file 0644 0:0 10 B/m, diff.output);
  t.true(diff.output.includes(`${image}: the tag moved`), diff.output);

  // Approved: new Pods run the new digest; the Pod from before keeps the old one.
  const approve = await shell.digestpin([
    "approve",
    image,
    "--digest",
    harmful.digest,
    "--reason",
    "harmful file reviewed, accepted",
    "--ca-file",
    "registry-ca.pem",
  ]);
  t.is(approve.exitCode, 0, approve.output);
  await untilAdmitted(shell, namespace, "web-2.yaml");
  t.is((await shell.kubectl(["apply", "-n", namespace, "-f", "web-2.yaml"])).exitCode, 0);
  const web2 = await waitRunning(core, namespace, "web-2");
  t.is(web2.spec?.containers[0]?.image, `${image}@${harmful.digest}`);
  t.deepEqual(imageIds(web2), [`${repository}@${harmful.digest}`]);
  const pods = await waitFor(
    "the Deployment's 2 Pods to run",
    async () => {
      const running = await runningPods(core, namespace, "app=web");
      return running.length === 2 ? running : undefined;
    },
    300_000,
    500,
  );
  const byAge = pods.toSorted(
    (a, b) =>
      (a.metadata?.creationTimestamp?.getTime() ?? 0) -
      (b.metadata?.creationTimestamp?.getTime() ?? 0),
  );
  t.deepEqual(byAge.map(imageIds), [
    [`${repository}@${harmless.digest}`],
    [`${repository}@${scaledUpDigest}`],
  ]);
  t.deepEqual(imageIds(await waitRunning(core, namespace, "web-1")), [
    `${repository}@${harmless.digest}`,
  ]);
}
