import { randomUUID } from "node:crypto";
import test, { type ExecutionContext } from "ava";
import { stringify } from "yaml";
import { DriftScanner, ReportStore, type ScanRegistry } from "../../../src/drift/index.ts";
import { Metrics, silentLogger } from "../../../src/observability/index.ts";
import { policyFromText } from "../../../src/policy/index.ts";
import { ImageFacts, RegistryReader, Resolver } from "../../../src/registry/index.ts";
import { putConfigMap } from "../../harness/kube-configmaps.ts";
import { pushLayered } from "../../harness/layered-images.ts";
import { waitFor } from "../../harness/wait.ts";
import { registryEntries } from "../../helpers/resolver-for.ts";
import { digestpin, inCluster, putPolicy, sharedTestbed, type CliTestbed } from "./testbed.ts";

// `digestpin diff` reuses the change the drift scan leader wrote to the report ConfigMap: with
// the real API server, registry and scanner, a moved tag's `diff --files` prints the report's
// files without a layer read from the registry; --fresh, a stale report or an unreadable one
// compare anew (layers read).

const testbed = sharedTestbed(test);

/** Pins a one-layer image, re-pushes the tag with /harmful added, and lets a scan report it. */
async function scannedMove(t: ExecutionContext, bed: CliTestbed, name: string) {
  const namespace = await bed.cluster.namespace(t, "diffrep");
  const ref = bed.registry.ref(name);
  // Contents of this test's own (other tests push layers too, and the registry's log counts
  // reads by digest: an identical layer read by them must not count here).
  const unique = `${name} ${randomUUID()}`;
  const pinned = await pushLayered(t, bed.crane, ref, {
    layers: [[{ path: "harmless", content: unique }]],
  });
  const text = stringify({
    apiVersion: "digestpin.dev/v1alpha1",
    kind: "Policy",
    driftScan: { interval: "1s" },
    pins: { [ref]: pinned },
  });
  await putPolicy(bed, namespace, text);
  const current = await pushLayered(t, bed.crane, ref, {
    base: `${ref}@${pinned}`,
    layers: [[{ path: "harmful", content: unique }]],
  });
  const registries = registryEntries(bed.registry);
  const resolver = new Resolver({ registries, cacheTtlMs: 0 });
  const facts = new ImageFacts({ registries });
  const reader = new RegistryReader({ registries });
  t.teardown(() => Promise.all([resolver.close(), facts.close(), reader.close()]));
  const registry: ScanRegistry = {
    resolve: (reference, deadline) => resolver.resolve(reference, { deadline }),
    tree: (repository, digest, deadline) => facts.tree(repository, digest, { deadline }),
    openLayer: (repository, layer, deadline) =>
      reader.openBlob(repository, layer.digest, { deadline, size: layer.size }),
  };
  const policy = policyFromText(text, "policy.yaml");
  const metrics = new Metrics();
  const scanner = new DriftScanner({
    kubeConfig: bed.cluster.kubeConfig,
    namespace,
    identity: "diff-report-scanner",
    pins: () => policy.pins,
    settings: () => policy.settings.driftScan,
    registry,
    metrics,
    logger: silentLogger(),
    retryPeriodMs: 200,
  });
  scanner.start();
  t.teardown(() => scanner.stop());
  await waitFor(
    "the move in the report",
    async () => ((await metrics.pinsMoved.get()).values[0]?.value === 1 ? true : undefined),
    20_000,
    50,
  );
  await scanner.stop();
  const report = await new ReportStore(bed.cluster.kubeConfig, namespace).read();
  const entry = report?.moved[0];
  if (entry?.change?.computedAt === undefined) throw new Error("no change in the report");
  const layers = new Set<string>();
  for (const digest of [pinned, current]) {
    const manifest = await bed.crane.manifest(`${ref}@${digest}`);
    for (const layer of manifest.json.layers as { digest: string }[]) layers.add(layer.digest);
  }
  return { namespace, ref, pinned, current, entry, layers };
}

/** Runs digestpin; its result and the layer blobs it GETs from the registry meanwhile. */
async function withLayerReads(bed: CliTestbed, layers: Set<string>, args: readonly string[]) {
  const before = (await bed.registry.accessLog()).length;
  const run = await digestpin(bed, args);
  const reads = (await bed.registry.accessLog())
    .slice(before)
    .filter((e) => e.method === "GET" && e.path.includes("/blobs/"))
    .map((e) => e.path.slice(e.path.lastIndexOf("/") + 1))
    .filter((digest) => layers.has(digest));
  return { run, reads };
}

test("diff --files of a reported move prints the report's files, with no layer read; --fresh reads them", async (t) => {
  const bed = testbed();
  const { namespace, ref, entry, layers } = await scannedMove(t, bed, "team/report:1.0");
  const args = ["diff", ref, "--files", ...inCluster(bed, namespace)];
  const { run, reads: reused } = await withLayerReads(bed, layers, args);
  t.is(run.status, 1, run.stderr);
  t.deepEqual(reused, []);
  t.true(
    run.lines.includes(`change (from the drift report, computed ${entry.change?.computedAt})`),
    run.stdout,
  );
  t.true(run.lines.includes("  files    1 added, 0 removed, 0 changed: + /harmful"), run.stdout);
  t.false(run.stdout.includes("files of linux/amd64:"));
  // The manifests and layering are still read and shown (no layer download for them).
  t.true(run.lines.includes("  layering  the pinned image's 1 layer with 1 layer added on top"));

  // Without --files too: the report's summary, no layer read.
  const plain = await digestpin(bed, ["diff", ref, ...inCluster(bed, namespace)]);
  t.is(plain.status, 1, plain.stderr);
  t.true(plain.lines.includes("  files    1 added, 0 removed, 0 changed: + /harmful"));

  // --json: the report's change under driftReport, no file comparison of its own.
  const json = await digestpin(bed, [...args, "--json"]);
  const document = JSON.parse(json.stdout) as {
    driftReport: { computedAt: string; files: { paths: string[] } } | null;
    platforms: { files: unknown }[];
  };
  t.is(document.driftReport?.computedAt, entry.change?.computedAt);
  t.deepEqual(document.driftReport?.files.paths, ["+ /harmful"]);
  t.is(document.platforms[0]?.files, null);

  const { run: fresh, reads: read } = await withLayerReads(bed, layers, [...args, "--fresh"]);
  t.is(fresh.status, 1, fresh.stderr);
  t.true(read.length > 0, "--fresh read no layer");
  t.false(fresh.stdout.includes("from the drift report"));
  t.regex(fresh.stdout, /files of linux\/amd64: 1 added, 0 removed, 0 changed/);
});

test("a stale report (the tag moved again) or an unreadable one: compared anew, layers read", async (t) => {
  const bed = testbed();
  const { namespace, ref, pinned, layers } = await scannedMove(t, bed, "team/stale:1.0");
  const again = await pushLayered(t, bed.crane, ref, {
    base: `${ref}@${pinned}`,
    layers: [[{ path: "worse", content: "x" }]],
  });
  const manifest = await bed.crane.manifest(`${ref}@${again}`);
  for (const layer of manifest.json.layers as { digest: string }[]) layers.add(layer.digest);
  const args = ["diff", ref, "--files", ...inCluster(bed, namespace)];
  const { run: stale, reads: staleReads } = await withLayerReads(bed, layers, args);
  t.is(stale.status, 1, stale.stderr);
  t.false(stale.stdout.includes("from the drift report"));
  t.regex(stale.stdout, /\n {2}\+ \/worse {2}file/);
  t.true(staleReads.length > 0);

  await putConfigMap(bed.cluster.kubeConfig, namespace, "digestpin-drift", {
    "drift.yaml": "moved: [not, a, report\n",
  });
  const unreadable = await digestpin(bed, args);
  t.is(unreadable.status, 1, unreadable.stderr);
  t.regex(
    unreadable.stderr,
    /digestpin diff: the drift report could not be read \(.*\); comparing anew/,
  );
  t.regex(unreadable.stdout, /\n {2}\+ \/worse {2}file/);
});
