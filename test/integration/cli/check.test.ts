import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { tempDir, type Pushed } from "../../harness/testbed.ts";
import {
  digestpin,
  inCluster,
  putPolicy,
  runProcess,
  sharedTestbed,
  type CliTestbed,
} from "./testbed.ts";

// `digestpin check` on a directory of manifests: a CI gate, and --fix.

const testbed = sharedTestbed(test);

interface Images {
  readonly good: Pushed;
  readonly drifted: Pushed;
  readonly moved: Pushed;
  readonly unpinned: string;
  readonly policy: string;
}

let images: Promise<Images> | undefined;

/** Pushed once per file: a pinned image, a pinned one that moved since, an unpinned one. */
function setUp(bed: CliTestbed): Promise<Images> {
  images ??= (async () => {
    const good = await bed.crane.pushRandomImage(bed.registry.ref("team/good:1"));
    const drifted = await bed.crane.pushRandomImage(bed.registry.ref("team/drift:1"));
    const moved = await bed.crane.repush(drifted.ref);
    const unpinned = bed.registry.ref("team/new:1");
    await bed.crane.pushRandomImage(unpinned);
    const policy = `apiVersion: digestpin.dev/v1alpha1\nkind: Policy\npins:\n  ${good.ref}: ${good.digest}\n  ${drifted.ref}: ${drifted.digest}\n`;
    return { good, drifted, moved, unpinned, policy };
  })();
  return images;
}

async function manifests(dir: string, { good, drifted, unpinned }: Images): Promise<void> {
  await mkdir(join(dir, "apps"));
  await writeFile(
    join(dir, "apps", "web.yaml"),
    `# the web tier
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      containers:
        - name: web
          image: "${good.ref}" # reviewed
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {image: "${unpinned}"}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          initContainers: [{name: fetch, image: '${good.ref}'}]
          containers: [{name: report, image: ${drifted.ref}}]
`,
  );
  const list = {
    apiVersion: "v1",
    kind: "List",
    items: [
      { apiVersion: "v1", kind: "Service", metadata: { name: "web" } },
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "debug" },
        spec: {
          containers: [{ name: "shell", image: unpinned }],
          volumes: [
            { name: "tools", image: { reference: `${good.ref.split(":1")[0]}@${good.digest}` } },
          ],
        },
      },
    ],
  };
  await writeFile(join(dir, "debug.json"), `${JSON.stringify(list, null, 2)}\n`);
}

test("check: a table of every image's decision, denials explained, exit 1", async (t) => {
  const bed = testbed();
  const set = await setUp(bed);
  const dir = await tempDir(t, "check");
  await manifests(dir, set);
  const policyFile = join(await tempDir(t, "check-policy"), "policy.yaml");
  await writeFile(policyFile, set.policy);
  const run = await digestpin(bed, ["check", "-f", dir, "--policy", policyFile]);
  t.is(run.status, 1, run.stderr);
  const rows = run.lines.slice(0, 6).map((line) => line.split(/\s{2,}/));
  t.deepEqual(rows[0], ["FILE", "OBJECT", "PLACE", "IMAGE", "DECISION", "REASON"]);
  const web = join(dir, "apps", "web.yaml");
  const debug = join(dir, "debug.json");
  // FILE:LINE, the line of the image in its file.
  t.deepEqual(rows.slice(1), [
    [`${web}:12`, "Deployment/shop/web", "containers[web]", set.good.ref, "mutate", "pinned"],
    [`${web}:27`, "CronJob/report", "initContainers[fetch]", set.good.ref, "mutate", "pinned"],
    [`${web}:28`, "CronJob/report", "containers[report]", set.drifted.ref, "deny", "drift"],
    [`${debug}:22`, "Pod/debug", "containers[shell]", set.unpinned, "deny", "unpinned"],
    [
      `${debug}:29`,
      "Pod/debug",
      "volumes[tools]",
      `${set.good.ref.split(":1")[0]}@${set.good.digest}`,
      "allow",
      "digest-known",
    ],
  ]);
  t.true(
    run.stdout.includes(
      `${web}:28 CronJob/report containers[report]: image "${set.drifted.ref}": the tag moved.`,
    ),
  );
  t.true(run.stdout.includes(`but the registry now serves ${set.moved.digest}`));
  t.true(run.stdout.includes(`${debug}:22 Pod/debug containers[shell]: image "${set.unpinned}"`));
  t.regex(run.stderr, /5 images: 2 denied, 2 rewritten to a digest, 1 admitted unchanged/);
});

test("check --fix rewrites admitted tags to their digests in place and keeps the rest", async (t) => {
  const bed = testbed();
  const set = await setUp(bed);
  const dir = await tempDir(t, "fix");
  await manifests(dir, set);
  const namespace = await bed.cluster.namespace(t, "check");
  await putPolicy(bed, namespace, set.policy);
  const web = join(dir, "apps", "web.yaml");
  const before = await readFile(web, "utf8");
  const json = await readFile(join(dir, "debug.json"), "utf8");
  const run = await digestpin(bed, ["check", "-f", dir, "--fix", ...inCluster(bed, namespace)]);
  t.is(run.status, 1, "the denials still fail the check");
  t.regex(run.stderr, new RegExp(`fixed ${web}: 2 images`));
  const pinned = `${set.good.ref}@${set.good.digest}`;
  const expected = before
    .replace(`image: "${set.good.ref}" # reviewed`, `image: "${pinned}" # reviewed`)
    .replace(`image: '${set.good.ref}'}`, `image: '${pinned}'}`);
  t.not(expected, before);
  t.is(await readFile(web, "utf8"), expected);
  t.is(await readFile(join(dir, "debug.json"), "utf8"), json, "nothing to fix there");

  const again = await digestpin(bed, ["check", "-f", web, ...inCluster(bed, namespace)]);
  t.regex(
    again.stdout,
    new RegExp(`containers\\[web\\]\\s+${escape(pinned)}\\s+allow\\s+digest-pinned`),
  );
});

test("check -f - --fix reads stdin and prints the fixed manifests; exit 0 without denials", async (t) => {
  const bed = testbed();
  const set = await setUp(bed);
  const dir = await tempDir(t, "stdin");
  const policyFile = join(dir, "policy.yaml");
  await writeFile(policyFile, set.policy);
  const input = `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: a # first\n      image: ${set.good.ref}\n`;
  const cli = join(import.meta.dirname, "..", "..", "..", "src", "cli.ts");
  const args = [
    "--import",
    "tsx",
    cli,
    "check",
    "-f",
    "-",
    "--fix",
    "--policy",
    policyFile,
    "--ca-file",
    bed.registry.caFile,
  ];
  const { status, stdout, stderr } = await runProcess(process.execPath, args, input, {
    HOME: bed.home,
  });
  t.is(status, 0, stderr);
  t.is(
    stdout,
    input.replace(`image: ${set.good.ref}`, `image: ${set.good.ref}@${set.good.digest}`),
  );
  t.regex(stderr, /^FILE\s+OBJECT/);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
