import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ControlPlane } from "../../test/harness/kube.ts";
import { putConfigMap } from "../../test/harness/kube-configmaps.ts";
import { generatedPins, pinLines, pinsDocument } from "../fixtures/pins.ts";
import { podReview } from "../fixtures/pod-review.ts";
import { benchPolicy } from "../fixtures/policy.ts";
import type { BenchRegistry } from "../fixtures/registry.ts";
import type { OpenLoopSummary } from "../load/open-loop.ts";
import type { BenchContext } from "../lib/context.ts";
import { CPU_SPLIT, moveToCpus } from "../lib/cpus.ts";
import { openLoop } from "../lib/load.ts";
import { cpuMsOf } from "../lib/process.ts";
import { count, ms, type Check, type GroupResult } from "../lib/report.ts";
import { median } from "../lib/stats.ts";
import { startDigestpin } from "../lib/servers.ts";
import { EXPECT_PATCH } from "./warm.ts";

export type PinsSource = "file" | "configmaps";

export interface ReloadsOptions {
  readonly sources: readonly PinsSource[];
  readonly sizes: readonly number[];
  /** Pins ConfigMaps the pins are spread over (source configmaps). */
  readonly configMaps: number;
  /** Open-loop rate on /mutate, and the measured seconds of each run (after 1 s of warm-up). */
  readonly rate: number;
  readonly seconds: number;
  /** One pin added this often during the run with edits. */
  readonly editEveryMs: number;
  /** How often digestpin's /metrics is read (each read resets its event-loop delay maximum). */
  readonly scrapeEveryMs: number;
}

export const RELOADS_DEFAULTS: ReloadsOptions = {
  sources: ["file", "configmaps"],
  sizes: [10_000, 100_000],
  configMaps: 10,
  rate: 300,
  seconds: 30,
  editEveryMs: 3000,
  scrapeEveryMs: 1000,
};

/**
 * The first edit lands this long after the load process is spawned: after its start-up (tsx,
 * about 1 s on the bench machine) and 1 s of warm-up, half-way between two /metrics reads.
 */
const FIRST_EDIT_MS = 2700;
const FIRST_SCRAPE_MS = 200;

/** Where the pins live, and how one more is added (as `digestpin pin` would). */
interface PinsPlace {
  readonly policy: Parameters<typeof startDigestpin>[0]["policy"];
  /**
   * The reviewed Pod's namespace. With a kubeconfig digestpin reads namespace labels: the
   * namespace must exist, or each review would ask the API server (and log that it is missing).
   */
  readonly namespace: string;
  /** Adds the `k`-th new pin (k = 0, 1, …) to what the earlier edits left. */
  edit(k: number): Promise<void>;
}

/** One read of digestpin's /metrics. */
interface Scrape {
  /** Date.now() when the answer came. */
  readonly at: number;
  /** nodejs_eventloop_lag_max_seconds: the longest delay since the previous read, in ms. */
  readonly lagMaxMs: number;
  readonly generation: number;
  readonly pins: number;
}

interface RunResult {
  readonly load: OpenLoopSummary;
  readonly stallMs: number;
  /** The median of the 1 s reads' maxima: the stalls the machine causes anyway. */
  readonly typicalStallMs: number;
  /** The maximum of the read covering the moment each edit came in force. */
  readonly editStallsMs: readonly number[];
  readonly registryRequests: number;
  readonly edits: number;
  /** Edit → in force, ms, one per edit (NaN: never seen in force). */
  readonly inForceMs: readonly number[];
  /** Whether `inForceMs` came from the log line of each generation or the 1 s scrapes. */
  readonly inForceFrom: "log" | "scrapes" | "none";
  readonly generations: number;
  /** CPU time digestpin used during the run (user + system), ms. */
  readonly cpuMs: number;
  /** Lines logged at warn or above during the run (a review path gone wrong shows here). */
  readonly warnings: number;
}

export function metricValue(text: string, name: string): number {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text);
  return Number(match?.[1] ?? NaN);
}

async function scrape(metricsUrl: string): Promise<Scrape> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  return {
    at: Date.now(),
    lagMaxMs: metricValue(text, "nodejs_eventloop_lag_max_seconds") * 1000,
    generation: metricValue(text, "digestpin_policy_generation"),
    pins: metricValue(text, "digestpin_policy_pins"),
  };
}

/**
 * When each policy generation came in force, from digestpin's log: the line the webhook logs
 * in the same synchronous step that sets digestpin_policy_generation (webhook/policy-report.ts),
 * with its time and pin count.
 */
async function generationsLogged(
  logFile: string,
): Promise<{ at: number; generation: number; pins: number }[]> {
  const found: { at: number; generation: number; pins: number }[] = [];
  for (const line of (await readFile(logFile, "utf8")).split("\n")) {
    if (!line.startsWith("{") || !line.includes('"generation"')) continue;
    try {
      const entry = JSON.parse(line) as {
        time?: unknown;
        generation?: unknown;
        pins?: unknown;
        msg?: unknown;
      };
      const at = typeof entry.time === "string" ? Date.parse(entry.time) : Number(entry.time);
      if (
        typeof entry.generation === "number" &&
        typeof entry.pins === "number" &&
        typeof entry.msg === "string" &&
        entry.msg.includes("in force") &&
        Number.isFinite(at)
      )
        found.push({ at, generation: entry.generation, pins: entry.pins });
    } catch {
      // not a log line of digestpin's
    }
  }
  return found;
}

/** Lines digestpin logged at level warn or above (pino: 40 and up) so far. */
async function warningsLogged(logFile: string): Promise<number> {
  const text = await readFile(logFile, "utf8");
  return (text.match(/^\{"level":(?:[4-9]\d)\b/gm) ?? []).length;
}

/** Manifest requests (HEAD or GET) the registry has answered so far, from its access log. */
export async function manifestReads(registry: BenchRegistry): Promise<number> {
  const requests = await registry.registry.manifestRequests();
  return requests.filter((r) => r.method === "HEAD" || r.method === "GET").length;
}

/**
 * Group 6: reloads under load. digestpin serving `n` pins from one policy file or from pins
 * ConfigMaps on the testbed API server, reviews at a fixed rate (the warm review, answers
 * cached), once without edits and once with one pin added every few seconds: latency, the
 * longest event-loop delay, registry requests, and how long each edit took to be in force.
 */
export async function reloadsGroup(
  ctx: BenchContext,
  registry: BenchRegistry,
  cluster: ControlPlane | undefined,
  options: ReloadsOptions = RELOADS_DEFAULTS,
): Promise<GroupResult> {
  const warmPins = registry.warm.map(
    (image) => [`${registry.host}/${image.repository}:${image.tag}`, image.digest] as const,
  );
  /** The warm review of a Pod in `namespace`, and the file the load driver sends it from. */
  const review = async (namespace: string): Promise<{ body: string; bodyFile: string }> => {
    const body = JSON.stringify(
      podReview({
        uid: "5d2c7a1e-3b4f-4e6a-8c9d-0e1f2a3b4c5d",
        namespace,
        images: registry.warm.map((image) => image.ref) as [string, string, string],
      }),
    );
    return { body, bodyFile: await ctx.file(`reloads-review-${namespace}.json`, body) };
  };
  const policyText = (pins: readonly (readonly [string, string])[]): string =>
    benchPolicy({
      registryHost: registry.host,
      caPem: registry.registry.caPem,
      pins,
      cacheTTL: "1h",
    });

  const placeFile = async (n: number): Promise<PinsPlace> => {
    // A directory of its own: digestpin watches the policy file's directory.
    const dir = join(ctx.dir, `reloads-file-${n}`);
    await mkdir(dir, { recursive: true });
    const file = join(dir, "policy.yaml");
    // `pins:` is the document's last section: a new pin is one more line at the end.
    const base = policyText([...warmPins, ...generatedPins(n)]);
    await writeFile(file, base);
    let added = "";
    return {
      policy: { file },
      namespace: "shop",
      async edit(k) {
        added += pinLines(generatedPins(1, n + k));
        // Atomically, as `digestpin pin` and editors do: a new file renamed over the old one.
        await writeFile(join(dir, ".policy.yaml.tmp"), base + added);
        await rename(join(dir, ".policy.yaml.tmp"), file);
      },
    };
  };

  const placeConfigMaps = async (n: number): Promise<PinsPlace> => {
    if (cluster === undefined) throw new Error("reloads: pins ConfigMaps need the API server");
    const namespace = await cluster.namespace(ctx, "bench-reloads");
    await putConfigMap(cluster.kubeConfig, namespace, "digestpin-policy", {
      "policy.yaml": policyText(warmPins),
    });
    const per = Math.ceil(n / options.configMaps);
    const shards = Array.from({ length: options.configMaps }, (_, i) =>
      pinsDocument(generatedPins(Math.max(0, Math.min(per, n - i * per)), i * per)),
    );
    const label = { "digestpin.dev/pins": "true" };
    for (const [i, text] of shards.entries())
      await putConfigMap(cluster.kubeConfig, namespace, `pins-${i}`, { "pins.yaml": text }, label);
    const added = shards.map(() => "");
    return {
      namespace,
      policy: {
        configMap: `${namespace}/digestpin-policy`,
        kubeconfig: cluster.kubeconfigPath,
        namespace,
      },
      async edit(k) {
        // The shards take turns; each keeps the pins added to it before.
        const i = k % shards.length;
        added[i] = (added[i] ?? "") + pinLines(generatedPins(1, n + k));
        await putConfigMap(
          cluster.kubeConfig,
          namespace,
          `pins-${i}`,
          { "pins.yaml": (shards[i] ?? "") + (added[i] ?? "") },
          label,
        );
      },
    };
  };

  const measure = async (
    target: { metricsUrl: string; url: string; logFile: string; pid: number },
    place: PinsPlace,
    withEdits: boolean,
    bodyFile: string,
  ): Promise<RunResult> => {
    const before = await scrape(target.metricsUrl); // also resets the event-loop delay maximum
    const requestsBefore = await manifestReads(registry);
    const warningsBefore = await warningsLogged(target.logFile);
    const cpuBefore = await cpuMsOf(target.pid);
    const spawned = Date.now();
    const state = { done: false };
    const finished = (): boolean => state.done;
    const loading = openLoop(
      {
        url: target.url,
        ca: ctx.caPem,
        rate: options.rate,
        durationMs: options.seconds * 1000,
        warmupMs: 1000,
        maxConnections: 32,
        plan: { kind: "same", bodyFile },
        expect: EXPECT_PATCH,
      },
      ctx.dir,
      "load",
    ).finally(() => {
      state.done = true;
    });
    const scrapes: Scrape[] = [];
    const scraping = (async () => {
      for (let i = 0; !finished(); i++) {
        await sleep(
          Math.max(0, spawned + FIRST_SCRAPE_MS + i * options.scrapeEveryMs - Date.now()),
        );
        scrapes.push(await scrape(target.metricsUrl));
      }
    })();
    const editTimes: number[] = [];
    const planned = withEdits ? Math.floor((options.seconds * 1000) / options.editEveryMs) : 0;
    const editing = (async () => {
      for (let k = 0; k < planned && !finished(); k++) {
        await sleep(Math.max(0, spawned + FIRST_EDIT_MS + k * options.editEveryMs - Date.now()));
        if (finished()) break;
        editTimes.push(Date.now());
        await place.edit(k);
      }
    })();
    const load = await loading;
    const cpuMs = (await cpuMsOf(target.pid)) - cpuBefore;
    await Promise.all([scraping, editing]);
    scrapes.push(await scrape(target.metricsUrl));
    const during = scrapes.map((s) => s.lagMaxMs);
    // Every edit must come in force before the figures are taken (the reads from here on are
    // not part of the stall: the load is over).
    const expectedPins = before.pins + editTimes.length;
    const deadline = Date.now() + 60_000;
    let last = scrapes.at(-1) ?? before;
    while (last.pins < expectedPins) {
      if (Date.now() > deadline)
        throw new Error(`reloads: ${expectedPins - last.pins} pin edits never came in force`);
      await sleep(50);
      last = await scrape(target.metricsUrl);
      scrapes.push(last);
    }
    const registryRequests = (await manifestReads(registry)) - requestsBefore;
    await sleep(250); // digestpin writes its log off the event loop: let the last lines land

    // Edit k is in force when a generation holding its pin is: from the log line of each
    // generation if there is one, else from the 1 s scrapes.
    const logged = (await generationsLogged(target.logFile)).filter(
      (g) => g.generation > before.generation,
    );
    const inForceFrom: RunResult["inForceFrom"] =
      editTimes.length === 0 ? "none" : logged.length > 0 ? "log" : "scrapes";
    const events = inForceFrom === "log" ? logged : scrapes;
    const inForceMs = editTimes.map((at, k) => {
      const seen = events.find((e) => e.pins >= before.pins + k + 1 && e.at >= at);
      return seen === undefined ? NaN : seen.at - at;
    });
    // The reads that cover an edit: from its write (the file read, the ConfigMap's event) to
    // the first read after it came in force (the worker's answer merged and swapped in).
    const editStallsMs = inForceMs.map((inForce, k) => {
      const from = editTimes[k] ?? NaN;
      const until = scrapes.find((s) => s.at >= from + inForce)?.at ?? NaN;
      const covering = scrapes.filter((s) => s.at > from && s.at <= until);
      return covering.length === 0 ? NaN : Math.max(...covering.map((s) => s.lagMaxMs));
    });
    return {
      load,
      stallMs: Math.max(...during),
      typicalStallMs: median(during),
      editStallsMs,
      registryRequests,
      edits: editTimes.length,
      inForceMs,
      inForceFrom,
      generations: last.generation - before.generation,
      cpuMs,
      warnings: (await warningsLogged(target.logFile)) - warningsBefore,
    };
  };

  // The load generator and, as on a real cluster (where they run on other machines than the
  // webhook), the API server and etcd share one CPU; digestpin may use every CPU, as it may in
  // its Deployment (no CPU limit), and its collector's helper threads need to.
  const apart =
    cluster?.services.every(
      (service) => service.process.pid !== undefined && moveToCpus("load", service.process.pid),
    ) === true;
  const rows: string[][] = [];
  const detailRows: string[][] = [];
  const checks: Check[] = [];
  const sources = new Set<string>();
  let failures = 0;
  for (const n of options.sizes) {
    for (const source of options.sources) {
      const label = source === "file" ? "one policy file" : `${options.configMaps} pins ConfigMaps`;
      const name = `reloads-${source}-${n}`;
      ctx.log(`reloads: ${count(n)} pins from ${label}`);
      const place = source === "file" ? await placeFile(n) : await placeConfigMaps(n);
      const digestpin = await startDigestpin({
        dir: ctx.dir,
        serving: ctx.serving,
        policy: place.policy,
        name,
      });
      ctx.teardown(() => digestpin.child.stop());
      const { body, bodyFile } = await review(place.namespace);
      const first = await ctx.post(digestpin.url, body);
      if (first.status !== 200 || !first.text.includes(EXPECT_PATCH))
        throw new Error(
          `reloads: the warm review was not rewritten: ${first.status} ${first.text}`,
        );
      const loaded = (await scrape(digestpin.metricsUrl)).pins;
      if (loaded !== n + warmPins.length)
        throw new Error(`reloads: ${count(n)} pins from ${label}, ${loaded} in force`);
      const target = { ...digestpin, logFile: digestpin.child.logFile, pid: digestpin.child.pid };
      ctx.log(`reloads: ${count(n)} pins from ${label}, no edits, ${options.rate} req/s`);
      const still = await measure(target, place, false, bodyFile);
      ctx.log(
        `reloads: ${count(n)} pins from ${label}, a pin added every ${options.editEveryMs / 1000} s`,
      );
      const edited = await measure(target, place, true, bodyFile);
      await digestpin.child.stop();
      if (edited.inForceFrom !== "none") sources.add(edited.inForceFrom);
      failures += [still, edited].reduce((sum, r) => sum + r.load.errors + r.load.unexpected, 0);

      const p99Met = edited.load.latencyMs.p99 <= 2 * still.load.latencyMs.p99;
      // A stall an edit causes: the largest read covering an edit (the run's largest read also
      // holds the machine's own stalls, which the run without edits shows as well).
      const editStallMs = Math.max(...edited.editStallsMs);
      const stallMet = editStallMs <= 20;
      const requestsMet = edited.registryRequests === still.registryRequests;
      const met = p99Met && stallMet && requestsMet;
      const missed = [
        ...(p99Met ? [] : ["p99"]),
        ...(stallMet ? [] : ["stall"]),
        ...(requestsMet ? [] : ["registry requests"]),
      ];
      const inForce = edited.inForceMs.filter(Number.isFinite);
      rows.push([
        label,
        count(n),
        ms(still.load.latencyMs.p99),
        ms(edited.load.latencyMs.p99),
        ms(still.stallMs),
        ms(edited.stallMs),
        ms(editStallMs),
        `${count(still.registryRequests)} / ${count(edited.registryRequests)}`,
        `${ms(median(inForce))} / ${ms(Math.max(...inForce))}`,
        met ? "met" : `not met (${missed.join(", ")})`,
      ]);
      for (const [run, result] of [
        ["no edits", still],
        ["with edits", edited],
      ] as const)
        detailRows.push([
          label,
          count(n),
          run,
          `${ms(result.load.latencyMs.p50)} / ${ms(result.load.latencyMs.p99)} / ${ms(result.load.latencyMs.max)}`,
          count(result.load.achievedRate),
          count(result.load.errors + result.load.unexpected),
          count(result.warnings),
          (result.cpuMs / 1000).toFixed(1),
          `${result.edits} / ${result.generations}`,
          `${ms(result.stallMs)} / ${ms(result.typicalStallMs)}`,
          result.editStallsMs.length === 0
            ? "–"
            : `${ms(Math.min(...result.editStallsMs))}–${ms(Math.max(...result.editStallsMs))}`,
          count(result.registryRequests),
        ]);
      checks.push({
        target: `${count(n)} pins, ${label}, a pin added every ${options.editEveryMs / 1000} s: p99 ≤ 2× no-edit p99, no event-loop stall > 20 ms, registry requests as without edits (issue 23)`,
        measured:
          `p99 ${ms(edited.load.latencyMs.p99)} ms (no edits ${ms(still.load.latencyMs.p99)}), ` +
          `stall ${ms(editStallMs)} ms per edit (run ${ms(edited.stallMs)}, no edits ${ms(still.stallMs)}), registry ${edited.registryRequests} (${still.registryRequests})`,
        met,
      });
    }
  }
  if (apart)
    for (const service of cluster.services)
      if (service.process.pid !== undefined) moveToCpus("all", service.process.pid);
  const inForceNote = sources.has("scrapes")
    ? "from the first /metrics read that showed it (1 s apart: the log line of each generation was not found)"
    : 'from the log line digestpin writes in the same step that advances digestpin_policy_generation ("policy generation N in force", its time and pin count), checked against /metrics';
  return {
    tables: [
      {
        title: `6. Reloads under load: ${count(options.rate)} req/s on /mutate (warm review, registry +20 ms), with and without one pin added every ${options.editEveryMs / 1000} s`,
        columns: [
          "pins source",
          "pins",
          "p99 ms no edits",
          "p99 ms with edits",
          "max stall ms no edits",
          "max stall ms with edits",
          "max stall ms per edit",
          "registry requests (no edits / edits)",
          "edit → in force ms (median / max)",
          "issue 23: p99 ≤ 2×, stall ≤ 20 ms, registry equal",
        ],
        rows,
        notes: [
          `Per row one digestpin serve (policy cache TTL 1 h, its cache warmed by one review), two runs back to back: ${options.seconds} s at ${count(options.rate)} req/s ` +
            `after 1 s of warm-up (open-loop driver, bench/load/open-loop.ts: latency from when each request was due), first without edits, then with one new pin every ${options.editEveryMs / 1000} s ` +
            `as \`digestpin pin\` or trust-on-first-use would add it: the policy file rewritten whole and renamed over the old one, or one pins ConfigMap (key pins.yaml, label digestpin.dev/pins=true) replaced through the API with one pin more, the ConfigMaps taking turns. ` +
            `The warm review's three images are pinned in the policy (file, or the policy ConfigMap); the ${count(options.configMaps)} pins ConfigMaps hold the generated pins (bench/fixtures/pins.ts). ` +
            (apart && CPU_SPLIT !== undefined
              ? `The load generator, the API server and etcd ran on CPU ${CPU_SPLIT.load} (taskset), as on a cluster, where the API server runs on other machines than the webhook; digestpin (no CPU limit in its chart either), the registry and the benchmark itself on any CPU.`
              : "The load generator, the servers and the benchmark shared every CPU (no taskset, or one CPU)."),
          `Stall: the largest nodejs_eventloop_lag_max_seconds (prom-client's default metrics: monitorEventLoopDelay, resolution 10 ms; the maximum is reset at every read) of /metrics read every ${options.scrapeEveryMs / 1000} s during the run. ` +
            "It is the longest time between two of the monitor's 10 ms ticks, so an idle loop reads about 10 ms and a reading d means a stall of d − 10 to d ms. " +
            "A read also forgets the tick interval under way (Node's histogram reset), so edits land half-way between reads. " +
            "Per edit: the largest read from the edit's write to the first read after it came in force (the target: the stalls an edit causes; the run's largest read also holds the machine's own, which the run without edits shows too). " +
            "Registry requests: manifest HEAD/GET requests in the registry's access log during the run (not digestpin_registry_requests_total, which counts cache hits). " +
            `Edit → in force: from the write (the rename, the start of the ConfigMap PUT) until a policy generation holding the new pin was in force, ${inForceNote}.`,
        ],
      },
      {
        title: "6b. Reloads under load: each run",
        columns: [
          "pins source",
          "pins",
          "run",
          "p50 / p99 / max ms",
          "req/s",
          "failed",
          "warnings logged",
          "digestpin CPU s",
          "edits / generations",
          "stall ms: max / median of reads",
          "stall ms per edit (reads from the write to in force)",
          "registry requests",
        ],
        rows: detailRows,
        notes: [
          `failed: errors and answers without the JSON patch (all runs: ${failures}). generations: how far digestpin_policy_generation advanced during the run. ` +
            "digestpin CPU: user + system time of the digestpin serve process from the start of the load driver to its end (/proc). " +
            `Stall: max and median of the ${options.scrapeEveryMs / 1000} s reads' maxima during the run (the median is the machine's own noise: CPU shared with the load driver, the API server and other work); ` +
            "per edit: the maximum of the read covering the moment the edit came in force, smallest–largest.",
        ],
      },
    ],
    checks,
  };
}
