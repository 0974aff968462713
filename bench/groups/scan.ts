import { setTimeout as sleep } from "node:timers/promises";
import type { ControlPlane } from "../../test/harness/kube.ts";
import { putConfigMap } from "../../test/harness/kube-configmaps.ts";
import { pinsDocument } from "../fixtures/pins.ts";
import { podReview } from "../fixtures/pod-review.ts";
import { benchPolicy } from "../fixtures/policy.ts";
import type { BenchRegistry } from "../fixtures/registry.ts";
import type { BenchContext } from "../lib/context.ts";
import { openLoop } from "../lib/load.ts";
import { cpuMsOf } from "../lib/process.ts";
import { count, ms, type Check, type GroupResult } from "../lib/report.ts";
import { startDigestpin } from "../lib/servers.ts";
import { manifestReads, metricValue } from "./reloads.ts";
import { EXPECT_PATCH } from "./warm.ts";

export interface ScanOptions {
  /** Pinned tags the drift scan re-resolves (each a tag of the registry's cold image). */
  readonly pins: number;
  /** The scan's intervals with the scan on: the default (1 h), and a stress pace. */
  readonly intervalsSeconds: readonly number[];
  readonly concurrency: number;
  /** Open-loop rate on /mutate, and the measured seconds of each run. */
  readonly rate: number;
  readonly seconds: number;
}

export const SCAN_DEFAULTS: ScanOptions = {
  pins: 10_000,
  intervalsSeconds: [3600, 60],
  concurrency: 4,
  rate: 300,
  seconds: 30,
};

/** Pins per pins ConfigMap: 2,500 short pins are about 260 KiB. */
const PER_CONFIGMAP = 2500;

/**
 * Group 7: the drift scan's cost to admission (issue 18). digestpin serving `pins` pinned tags
 * from pins ConfigMaps on the testbed API server (so it elects itself leader), reviews at a fixed
 * rate (the warm review), once with `driftScan.interval: 0s` (off) and once with the scan
 * re-resolving every pin over the interval: latency, CPU, and the registry requests the scan
 * made (one per pin per interval, spread evenly).
 */
export async function scanGroup(
  ctx: BenchContext,
  registry: BenchRegistry,
  cluster: ControlPlane,
  options: ScanOptions = SCAN_DEFAULTS,
): Promise<GroupResult> {
  const tags = Array.from({ length: options.pins }, (_, i) => `scan-${i}`);
  ctx.log(`scan: ${count(options.pins)} tags of the cold image`);
  await registry.tag(tags);
  const pins = tags.map(
    (tag) => [`${registry.host}/${registry.cold.repository}:${tag}`, registry.cold.digest] as const,
  );
  const warmPins = registry.warm.map(
    (image) => [`${registry.host}/${image.repository}:${image.tag}`, image.digest] as const,
  );
  const rows: string[][] = [];
  const results: {
    interval: number;
    p99: number;
    requests: number;
    expected: number;
    cpuMs: number;
  }[] = [];
  for (const interval of [0, ...options.intervalsSeconds]) {
    const namespace = await cluster.namespace(ctx, "bench-scan");
    const policy = benchPolicy({
      registryHost: registry.host,
      caPem: registry.registry.caPem,
      pins: warmPins,
      cacheTTL: "1h",
      driftScan: { interval: `${interval}s`, concurrency: options.concurrency },
    });
    await putConfigMap(cluster.kubeConfig, namespace, "digestpin-policy", {
      "policy.yaml": policy,
    });
    for (let i = 0; i * PER_CONFIGMAP < pins.length; i++) {
      await putConfigMap(
        cluster.kubeConfig,
        namespace,
        `pins-${i}`,
        { "pins.yaml": pinsDocument(pins.slice(i * PER_CONFIGMAP, (i + 1) * PER_CONFIGMAP)) },
        { "digestpin.dev/pins": "true" },
      );
    }
    const label = interval === 0 ? "scan off" : `scan every ${interval} s`;
    // The registry's log is read while nothing writes to it (it is read once it settles).
    const requestsBefore = await manifestReads(registry);
    const digestpin = await startDigestpin({
      dir: ctx.dir,
      serving: ctx.serving,
      policy: {
        configMap: `${namespace}/digestpin-policy`,
        kubeconfig: cluster.kubeconfigPath,
        namespace,
      },
      name: `scan-${interval}`,
    });
    ctx.teardown(() => digestpin.child.stop());
    const body = JSON.stringify(
      podReview({
        uid: "5d2c7a1e-3b4f-4e6a-8c9d-0e1f2a3b4c5d",
        namespace,
        images: registry.warm.map((image) => image.ref) as [string, string, string],
      }),
    );
    const bodyFile = await ctx.file(`scan-review-${interval}.json`, body);
    const first = await ctx.post(digestpin.url, body);
    if (first.status !== 200 || !first.text.includes(EXPECT_PATCH))
      throw new Error(`scan: the warm review was not rewritten: ${first.status} ${first.text}`);
    const leader = async () =>
      metricValue(
        await (await fetch(`${digestpin.metricsUrl}/metrics`)).text(),
        "digestpin_drift_scan_leader",
      );
    // The scan starts once this replica holds the Lease.
    let scanning = Date.now();
    if (interval > 0) {
      const deadline = Date.now() + 30_000;
      while ((await leader()) !== 1) {
        if (Date.now() > deadline) throw new Error("scan: digestpin never led the drift scan");
        await sleep(200);
      }
      scanning = Date.now();
      await sleep(2000); // into the scan's steady pace
    }
    ctx.log(`scan: ${count(options.pins)} pins, ${label}, ${options.rate} req/s`);
    const cpuBefore = await cpuMsOf(digestpin.child.pid);
    const load = await openLoop(
      {
        url: digestpin.url,
        ca: ctx.caPem,
        rate: options.rate,
        durationMs: options.seconds * 1000,
        warmupMs: 1000,
        maxConnections: 32,
        plan: { kind: "same", bodyFile },
        expect: EXPECT_PATCH,
      },
      ctx.dir,
    );
    const cpuMs = (await cpuMsOf(digestpin.child.pid)) - cpuBefore;
    await digestpin.child.stop();
    const scannedMs = Date.now() - scanning;
    // The first review asked the registry once per image; the scan, once per pin per interval.
    const requests = (await manifestReads(registry)) - requestsBefore - warmPins.length;
    const expected = interval === 0 ? 0 : Math.round((options.pins * scannedMs) / 1000 / interval);
    results.push({ interval, p99: load.latencyMs.p99, requests, expected, cpuMs });
    rows.push([
      label,
      count(options.pins),
      `${ms(load.latencyMs.p50)} / ${ms(load.latencyMs.p99)} / ${ms(load.latencyMs.max)}`,
      count(load.achievedRate),
      count(load.errors + load.unexpected),
      (cpuMs / 1000).toFixed(1),
      count(requests),
      interval === 0 ? "0" : `≈ ${count(expected)}`,
    ]);
  }
  const [off, ...on] = results;
  const checks: Check[] = [];
  for (const run of on) {
    if (off === undefined) break;
    const pace = `every ${count(run.interval)} s`;
    checks.push(
      {
        target: `drift scan over ${count(options.pins)} pins ${pace}: warm p99 at ${count(options.rate)} req/s within noise of scan off (≤ 1.5× and ≤ +2 ms) (issue 18)`,
        measured: `p99 ${ms(run.p99)} ms (off ${ms(off.p99)})`,
        met: run.p99 <= Math.max(1.5 * off.p99, off.p99 + 2),
      },
      {
        target: `drift scan ${pace}: the registry sees one request per pin per interval, ±10 % (issue 18)`,
        measured: `${count(run.requests)} requests while scanning, ${count(run.expected)} expected`,
        met: Math.abs(run.requests - run.expected) <= Math.max(3, 0.1 * run.expected),
      },
    );
  }
  return {
    tables: [
      {
        title: `7. The drift scan under load: ${count(options.pins)} pinned tags, ${count(options.rate)} req/s on /mutate (warm review, registry +20 ms)`,
        columns: [
          "run",
          "pins",
          "p50 / p99 / max ms",
          "req/s",
          "failed",
          "digestpin CPU s",
          "registry requests",
          "expected",
        ],
        rows,
        notes: [
          `One digestpin serve per run, its policy and ${count(options.pins)} pins in ConfigMaps on the testbed API server (so it elects itself leader of the scan), ` +
            `driftScan \`interval: 0s\` (off), or the default \`interval: 1h\` and a stress pace, with \`concurrency: ${options.concurrency}\`; each pin a tag of one image, so nothing moved. ` +
            `${options.seconds} s at ${count(options.rate)} req/s after 1 s of warm-up; registry requests: manifest HEAD/GET requests in the registry's access log from the leader's election to its stop (about ${options.seconds + 3} s), less the first review's, ` +
            "expected: pins × those seconds ÷ interval (the scan spreads its requests evenly over the interval).",
        ],
      },
    ],
    checks,
  };
}
