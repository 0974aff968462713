import { readFile } from "node:fs/promises";
import test from "ava";
import { stringify } from "yaml";
import { DriftScanner, watchWorkloads, type ScanRegistry } from "../../../src/drift/index.ts";
import { Metrics, silentLogger } from "../../../src/observability/index.ts";
import { policyFromText, type Policy } from "../../../src/policy/index.ts";
import { ImageFacts, Resolver } from "../../../src/registry/index.ts";
import { sharedControlPlane } from "../../harness/kube-shared.ts";
import { createCrane, startRegistry } from "../../harness/testbed.ts";
import { waitFor } from "../../harness/wait.ts";
import { registryEntries } from "../../helpers/resolver-for.ts";

// The scan against a real registry and API server: 40 pins over a 4 s interval are asked one
// HEAD each per interval, spread evenly (no burst), and a moved one is reported.

const controlPlane = sharedControlPlane(test, { controllerManager: false });

const PINS = 40;
const INTERVAL_MS = 4000;

test("40 pins, interval 4s, concurrency 2: one HEAD per pin per interval, evenly spread; a move reported", async (t) => {
  const registry = await startRegistry(t, { auth: "none" });
  const crane = await createCrane(t, registry);
  const namespace = await controlPlane().namespace(t, "scan");
  const base = await crane.pushRandomImage(registry.ref("scan/app:0"));
  const tags = Array.from({ length: PINS }, (_, i) => `t${String(i).padStart(2, "0")}`);
  for (const tag of tags) await crane.run(["tag", registry.ref("scan/app:0"), tag]);
  const pins = Object.fromEntries(
    tags.map((tag) => [registry.ref(`scan/app:${tag}`), base.digest]),
  );
  const policy: Policy = policyFromText(
    stringify({
      apiVersion: "digestpin.dev/v1alpha1",
      kind: "Policy",
      registries: registryEntries(registry),
      driftScan: { interval: "4s", concurrency: 2 },
      pins,
    }),
    "policy.yaml",
  );
  const resolver = new Resolver({ registries: registryEntries(registry), cacheTtlMs: 0 });
  const facts = new ImageFacts({ registries: registryEntries(registry) });
  t.teardown(() => Promise.all([resolver.close(), facts.close()]));
  const scanRegistry: ScanRegistry = {
    resolve: async (reference, deadline) =>
      (await resolver.resolve(reference, { deadline })).digest,
    tree: (name, digest, deadline) => facts.tree(name, digest, { deadline }),
  };
  const scannerOf = (identity: string, metrics: Metrics) =>
    new DriftScanner({
      kubeConfig: controlPlane().kubeConfig,
      namespace,
      identity,
      pins: () => policy.pins,
      settings: () => policy.settings.driftScan,
      registry: scanRegistry,
      metrics,
      logger: silentLogger(),
      retryPeriodMs: 200,
    });
  const metrics = new Metrics();
  const scanner = scannerOf("scanner-a", metrics);
  const before = (await registry.accessLog()).length;
  scanner.start();
  const scans = async () =>
    Number(
      /_count (\d+)/.exec(
        await metrics.registry.getSingleMetricAsString("digestpin_drift_scan_duration_seconds"),
      )?.[1],
    );
  await waitFor("two scans", async () => ((await scans()) >= 2 ? true : undefined), 15_000, 50);
  await scanner.stop(); // the third scan is cut short
  const done = await scans();
  const heads = (await registry.accessLog())
    .slice(before)
    .filter((e) => e.method === "HEAD" && e.path.startsWith("/v2/scan/app/manifests/t"));
  // Each pin once per scan, never more.
  const perTag = new Map<string, number>();
  for (const head of heads) perTag.set(head.path, (perTag.get(head.path) ?? 0) + 1);
  t.is(perTag.size, PINS);
  t.true(
    [...perTag.values()].every((count) => count >= done && count <= done + 1),
    JSON.stringify([...perTag]),
  );
  // Spread: the first scan's 40 requests over about 4 s, not at once. The access log has
  // second resolution: at most ceil(40 / 4) + 1 requests in any one second.
  const seconds = new Map<string, number>();
  for (const line of (await readFile(registry.logFile, "utf8")).split("\n")) {
    const match = /\[([^\]]+)\] "HEAD \/v2\/scan\/app\/manifests\/t/.exec(line);
    if (match?.[1] !== undefined) seconds.set(match[1], (seconds.get(match[1]) ?? 0) + 1);
  }
  const busiest = Math.max(...seconds.values());
  t.log(
    `${heads.length} HEADs for ${PINS} pins in ${done} scans (and one cut short); at most ${busiest} in one second`,
  );
  t.true(busiest <= Math.ceil(PINS / (INTERVAL_MS / 1000)) + 2, `${busiest} in one second`);

  // Another scanner takes the released Lease; one tag moves: the next scan reports it.
  const next = new Metrics();
  const other = scannerOf("scanner-b", next);
  other.start();
  t.teardown(() => other.stop());
  await waitFor("scanner-b to lead", () => (other.leading ? true : undefined));
  await crane.repush(registry.ref("scan/app:t07"));
  await waitFor(
    "the move in the gauge",
    async () => ((await next.pinsMoved.get()).values[0]?.value === 1 ? true : undefined),
    3 * INTERVAL_MS,
    50,
  );
});

test("the leader follows Pods and workloads only while the scan is on", async (t) => {
  const namespace = await controlPlane().namespace(t, "scan-off");
  let interval = "0s";
  const policyNow = (): Policy =>
    policyFromText(
      stringify({ apiVersion: "digestpin.dev/v1alpha1", kind: "Policy", driftScan: { interval } }),
      "policy.yaml",
    );
  let policy = policyNow();
  const watches = { started: 0, stopped: 0 };
  const scanner = new DriftScanner({
    kubeConfig: controlPlane().kubeConfig,
    namespace,
    identity: "scanner-off",
    pins: () => policy.pins,
    settings: () => policy.settings.driftScan,
    registry: {
      resolve: () => Promise.reject(new Error("no pins: nothing to resolve")),
      tree: () => Promise.reject(new Error("no pins: nothing to read")),
    },
    metrics: new Metrics(),
    logger: silentLogger(),
    retryPeriodMs: 200,
    // The real watch, counted.
    watchWorkloads: (kubeConfig, logger) => {
      const real = watchWorkloads(kubeConfig, logger);
      return {
        ...real,
        start: async () => {
          watches.started += 1;
          await real.start();
        },
        stop: async () => {
          watches.stopped += 1;
          await real.stop();
        },
      };
    },
  });
  scanner.start();
  t.teardown(() => scanner.stop());
  await waitFor("the Lease", () => (scanner.leading ? true : undefined));
  await new Promise((resolve) => setTimeout(resolve, 1500)); // more than one check of the settings
  t.deepEqual(watches, { started: 0, stopped: 0 }, "scan off: no Pod or workload watched");

  interval = "1h";
  policy = policyNow();
  await waitFor("the watch once the scan is on", () => (watches.started === 1 ? true : undefined));

  interval = "0s";
  policy = policyNow();
  await waitFor("the watch stopped once the scan is off", () =>
    watches.stopped === 1 ? true : undefined,
  );
  t.is(watches.started, 1);
});
