import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import type { ControlPlane } from "../../test/harness/kube.ts";
import { putConfigMap } from "../../test/harness/kube-configmaps.ts";
import { generatedPins, pinsDocument, policyDocument } from "../fixtures/pins.ts";
import type { BenchContext } from "../lib/context.ts";
import { memoryOf } from "../lib/process.ts";
import { count, mb, ms, type GroupResult } from "../lib/report.ts";
import { REPO_ROOT, startDigestpin } from "../lib/servers.ts";

const run = promisify(execFile);

export interface PinsOptions {
  readonly sizes: readonly number[];
  readonly configMaps: number;
}

export const PINS_DEFAULTS: PinsOptions = { sizes: [1000, 10_000, 100_000], configMaps: 10 };

interface Probe {
  readonly pins: number;
  readonly bytes: number;
  readonly loadMs: number;
  readonly checkMs: number;
  readonly parseMs: number;
  readonly indexMs: number;
  readonly heapBytes: number;
  readonly peakRssAddedBytes: number;
  readonly lookupNs: number;
  readonly found: boolean;
  readonly decideUs: number;
}

async function probe(file: string, keys: readonly string[], yamlOnly: boolean): Promise<Probe> {
  const { stdout } = await run(
    process.execPath,
    [
      "--expose-gc",
      "--import",
      "tsx",
      join(REPO_ROOT, "bench/probes/pin-load.ts"),
      ...(yamlOnly ? ["--yaml-only"] : []),
      file,
      ...keys,
    ],
    { cwd: REPO_ROOT, maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as Probe;
}

/** Cold loads of each pins file measured, each in a new process; the median is reported. */
const LOAD_RUNS = 3;

/**
 * The probe of the median load time of LOAD_RUNS cold loads (a shared machine slows one process
 * by a third now and then; the median of three is the load, not the neighbour).
 */
async function medianProbe(file: string, keys: readonly string[]): Promise<Probe> {
  const runs: Probe[] = [];
  for (let i = 0; i < LOAD_RUNS; i++) runs.push(await probe(file, keys, false));
  runs.sort((a, b) => a.loadMs - b.loadMs);
  const middle = runs[Math.floor(runs.length / 2)];
  if (middle === undefined) throw new Error("pins: no load measured");
  return middle;
}

/** Starts `digestpin serve`, returns when it is ready: how long that took and its memory. */
async function serveWith(
  ctx: BenchContext,
  name: string,
  policy: Parameters<typeof startDigestpin>[0]["policy"],
): Promise<{
  readyMs: number;
  rss: number;
  peak: number;
  metricsUrl: string;
  memory: () => Promise<{ rss: number; peak: number }>;
  stop: () => Promise<void>;
}> {
  const started = performance.now();
  const target = await startDigestpin({ dir: ctx.dir, serving: ctx.serving, policy, name });
  const readyMs = performance.now() - started;
  ctx.teardown(() => target.child.stop());
  const memory = () => memoryOf(target.child.pid);
  const { rss, peak } = await memory();
  return {
    readyMs,
    rss,
    peak,
    metricsUrl: target.metricsUrl,
    memory,
    stop: () => target.child.stop(),
  };
}

async function policyPins(metricsUrl: string): Promise<number> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  return Number(/^digestpin_policy_pins (\S+)$/m.exec(text)?.[1] ?? NaN);
}

/** Tables 4b and 4c (after the first column, each its source). */
const SERVE_COLUMNS = [
  "pins",
  "ready after ms",
  "RSS when ready",
  "peak RSS when ready",
  "1 pin added: in force after ms",
  "RSS after the edit",
  "peak RSS (after the edit)",
];

/** A row of table 4b or 4c: what SERVE_COLUMNS name, after the pins and their source. */
function serveRow(
  pins: string,
  source: string,
  served: { readyMs: number; rss: number; peak: number },
  after: { editMs: number; rss: number; peak: number },
): string[] {
  return [
    pins,
    source,
    ms(served.readyMs),
    mb(served.rss),
    mb(served.peak),
    ms(after.editMs),
    mb(after.rss),
    mb(after.peak),
  ];
}

/** Quiet time after an edit is in force before memory is read: the worker's check is done. */
const SETTLE_MS = 3000;

/**
 * Makes an edit (one pin more) and measures it: ms until digestpin_policy_pins shows `pins`,
 * then, after SETTLE_MS, the resident memory (what a pod keeps after an edit) and the peak.
 */
async function edited(
  served: { metricsUrl: string; memory: () => Promise<{ rss: number; peak: number }> },
  pins: number,
  edit: () => Promise<void>,
): Promise<{ editMs: number; rss: number; peak: number }> {
  const started = performance.now();
  await edit();
  while ((await policyPins(served.metricsUrl)) !== pins) {
    if (performance.now() - started > 60_000) throw new Error("pins: the edit never took effect");
    await sleep(10);
  }
  const editMs = performance.now() - started;
  await sleep(SETTLE_MS);
  return { editMs, ...(await served.memory()) };
}

/**
 * Group 4: pin scale. 1k, 10k and 100k pins from a policy file: load, validate and index
 * time (in a fresh process, pins read line by line and with yaml alone), the memory held,
 * lookup cost; `digestpin serve`'s readiness time and resident memory with them; and the same
 * pins over 10 ConfigMaps on the testbed API server, through the informer.
 */
export async function pinsGroup(
  ctx: BenchContext,
  cluster: ControlPlane,
  options: PinsOptions = PINS_DEFAULTS,
): Promise<GroupResult> {
  const fileRows: string[][] = [];
  const serveRows: string[][] = [];
  const mapRows: string[][] = [];
  const checks: GroupResult["checks"][number][] = [];
  ctx.log("pins: digestpin serve with no pins (baseline)");
  const baselineFile = await ctx.file("pins-0.yaml", policyDocument([]));
  const baseline = await serveWith(ctx, "pins-0", { file: baselineFile });
  const baselineEdit = await edited(baseline, 1, () =>
    writeFile(baselineFile, policyDocument(generatedPins(1))),
  );
  await baseline.stop();
  serveRows.push(serveRow("0 (baseline)", "file", baseline, baselineEdit));

  for (const size of [...options.sizes, "records" as const]) {
    const records = size === "records";
    const n = records ? Math.max(...options.sizes) : size;
    const pins = generatedPins(n);
    const file = await ctx.file(
      `pins-${n}${records ? "-records" : ""}.yaml`,
      policyDocument(pins, records),
    );
    const keys = pins
      .filter((_, i) => i % Math.max(1, Math.floor(n / 100)) === 0)
      .map(([key]) => key);
    const label = `${count(n)}${records ? " records" : ""}`;
    ctx.log(`pins: ${label} from a file`);
    const fast = await medianProbe(file, keys);
    const yaml = await probe(file, keys, true);
    if (!fast.found || fast.pins !== n) throw new Error(`pins: ${label} did not load`);
    fileRows.push([
      label,
      mb(fast.bytes),
      `${ms(fast.loadMs)} (${ms(yaml.loadMs)})`,
      `${ms(fast.checkMs)} (${ms(yaml.checkMs)})`,
      ms(fast.indexMs),
      `${mb(fast.heapBytes)} (${mb(yaml.heapBytes)})`,
      `${mb(fast.peakRssAddedBytes)} (${mb(yaml.peakRssAddedBytes)})`,
      `${fast.lookupNs.toFixed(0)} ns`,
      `${fast.decideUs.toFixed(2)} µs`,
    ]);
    const served = await serveWith(ctx, `pins-${n}${records ? "-records" : ""}`, { file });
    // One more pin written into the file in place (the worker reads the edit by its lines).
    const extra = generatedPins(1, n)[0] ?? ["", ""];
    const after = await edited(served, n + 1, () =>
      writeFile(file, policyDocument([...pins, extra], records)),
    );
    await served.stop();
    serveRows.push(serveRow(label, "file", served, after));
    if (n === Math.max(...options.sizes)) {
      checks.push({
        target: `${label} pins: load ≤ 1.5 s`,
        measured: `${ms(fast.loadMs)} ms`,
        met: fast.loadMs <= 1500,
      });
      checks.push({
        target: `${label} pins: RSS ≤ 300 MB (digestpin serve, peak)`,
        measured: mb(served.peak),
        met: served.peak <= 300 * 1024 * 1024,
      });
      checks.push({
        target: `${label} pins, one edit: peak RSS within the chart's memory limit (512 MiB)`,
        measured: mb(after.peak),
        met: after.peak <= 512 * 1024 * 1024,
      });
    }
  }

  for (const n of options.sizes) {
    const namespace = await cluster.namespace(ctx, "bench-pins");
    const per = Math.ceil(n / options.configMaps);
    ctx.log(`pins: ${count(n)} over ${options.configMaps} ConfigMaps`);
    await putConfigMap(cluster.kubeConfig, namespace, "digestpin-policy", {
      "policy.yaml": policyDocument([]),
    });
    let largest = 0;
    for (let i = 0; i < options.configMaps; i++) {
      const text = pinsDocument(generatedPins(Math.min(per, n - i * per), i * per));
      largest = Math.max(largest, Buffer.byteLength(text));
      await putConfigMap(
        cluster.kubeConfig,
        namespace,
        `pins-${i}`,
        { "pins.yaml": text },
        {
          "digestpin.dev/pins": "true",
        },
      );
    }
    const served = await serveWith(ctx, `pins-cm-${n}`, {
      configMap: `${namespace}/digestpin-policy`,
      kubeconfig: cluster.kubeconfigPath,
      namespace,
    });
    const loaded = await policyPins(served.metricsUrl);
    if (loaded !== n) throw new Error(`pins: ${n} in ConfigMaps, ${loaded} in force`);
    // One more pin in one ConfigMap: how long until it is in force (only that one is parsed).
    const extra = generatedPins(1, n)[0] ?? ["", ""];
    const after = await edited(served, n + 1, () =>
      putConfigMap(
        cluster.kubeConfig,
        namespace,
        "pins-0",
        { "pins.yaml": pinsDocument([...generatedPins(per, 0), extra]) },
        { "digestpin.dev/pins": "true" },
      ),
    );
    await served.stop();
    const source = `${options.configMaps} × ≤ ${(largest / 1024).toFixed(0)} KiB`;
    mapRows.push(serveRow(count(n), source, served, after));
  }

  return {
    tables: [
      {
        title:
          "4a. Pin scale: a policy file, loaded in a fresh process (in brackets: yaml alone, as before pins were read line by line)",
        columns: [
          "pins",
          "file",
          "load ms",
          "parse+validate ms",
          "index ms",
          "heap held",
          "peak RSS added",
          "lookup",
          "decide()",
        ],
        rows: fileRows,
        notes: [
          `load = read + checkPolicyDocument (parse and validate) + assemblePolicy (merge, index), cold, in a new process (bench/probes/pin-load.ts): the figures of the run with the median load of ${LOAD_RUNS} (yaml alone: one run). ` +
            "heap held: heap used after load and a full GC, minus before; peak RSS added: resident memory at the end of loading minus before. " +
            "lookup: PinIndex.get of a pinned key (1M lookups over 100 keys); decide(): a pinned tag up to its registry lookup. " +
            "Pins are `name:tag: sha256:…` lines (bench/fixtures/pins.ts); records: each a mapping of digest, pinnedAt, pinnedBy and reason, as `digestpin pin` writes them.",
        ],
      },
      {
        title:
          "4b. Pin scale: digestpin serve with those pins (time from start to ready, resident memory)",
        columns: [...SERVE_COLUMNS.slice(0, 1), "source", ...SERVE_COLUMNS.slice(1)],
        rows: serveRows,
        notes: [
          "RSS from /proc (VmRSS, VmHWM) of the digestpin serve process, node dist/cli.js. " +
            `Then the file is rewritten with one pin more; the time runs until digestpin_policy_pins shows it, and the memory is read ${String(SETTLE_MS / 1000)} s later (the first edit starts the worker that reads the file).`,
        ],
      },
      {
        title: `4c. Pin scale: the same pins over ${options.configMaps} ConfigMaps through the informer (testbed API server)`,
        columns: [...SERVE_COLUMNS.slice(0, 1), "ConfigMaps", ...SERVE_COLUMNS.slice(1)],
        rows: mapRows,
        notes: [
          "digestpin serve --policy-configmap: ready once the informers listed the policy ConfigMap and every ConfigMap labelled digestpin.dev/pins=true and the merged policy is in force (digestpin_policy_pins = all). " +
            "Then one ConfigMap is replaced with one pin more; the time runs until digestpin_policy_pins shows it (the other ConfigMaps are not parsed again).",
        ],
      },
    ],
    checks,
  };
}
