import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { runCli } from "../../helpers/run-cli.ts";

// `digestpin drift`: usage errors exit 2 and say what to do (the report itself: test/e2e).

test("digestpin drift: a bad output format, a stray argument, no cluster", async (t) => {
  const format = await runCli(["drift", "-o", "xml"], { HOME: "/nonexistent" });
  t.is(format.status, 2);
  t.is(format.stderr, "digestpin drift: -o xml: give table, json, yaml or name\n");
  const stray = await runCli(["drift", "busybox:1.36"], { HOME: "/nonexistent" });
  t.is(stray.status, 2);
  t.true(stray.stderr.startsWith("digestpin drift: unexpected argument busybox:1.36\n"));
  const noCluster = await runCli(["drift"], { HOME: "/nonexistent" });
  t.is(noCluster.status, 2);
  t.true(
    noCluster.stderr.startsWith(
      "digestpin drift: no cluster: use --kubeconfig FILE (or $KUBECONFIG), or --scan\n",
    ),
  );
  const file = await runCli(["drift", "--policy", "policy.yaml"], { HOME: "/nonexistent" });
  t.is(file.status, 2);
  t.regex(file.stderr, /--policy and --pins need --scan/);
});

test("digestpin drift --scan of a policy file: moved tags are resolved now (none pinned: exit 0)", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "drift-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const policy = join(dir, "policy.yaml");
  await writeFile(policy, "apiVersion: digestpin.dev/v1alpha1\nkind: Policy\n");
  const run = await runCli(["drift", "--scan", "--policy", policy, "-o", "json"], {
    HOME: "/nonexistent",
  });
  t.is(run.status, 0, run.stderr);
  const report = JSON.parse(run.stdout) as { checked: number; moved: unknown[]; scannedBy: string };
  t.is(report.checked, 0);
  t.deepEqual(report.moved, []);
  t.is(report.scannedBy, "digestpin drift --scan");
});
