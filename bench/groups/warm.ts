import { readFile, stat } from "node:fs/promises";
import { podReview } from "../fixtures/pod-review.ts";
import { benchPolicy, type BenchPolicyOptions } from "../fixtures/policy.ts";
import type { BenchRegistry } from "../fixtures/registry.ts";
import type { BenchContext } from "../lib/context.ts";
import { cpuNote, type CpuRole } from "../lib/cpus.ts";
import { closedLoop, openLoop } from "../lib/load.ts";
import { cpuMsOf } from "../lib/process.ts";
import { count, ms, percent, times, type GroupResult } from "../lib/report.ts";
import { median } from "../lib/stats.ts";
import { startDigestpin, startLimit, type Target } from "../lib/servers.ts";

export interface WarmOptions {
  readonly connections: number;
  /** Seconds of each maximum-throughput run (after 1 s of warm-up). */
  readonly maxSeconds: number;
  readonly rates: readonly number[];
  /** Seconds of each fixed-rate run (after 1 s of warm-up). */
  readonly rateSeconds: number;
  /**
   * Every run is repeated this many times, limit and digestpin alternating (which goes first
   * alternates too); the tables give medians, so a burst of load from elsewhere on a shared
   * machine moves one round, not the result.
   */
  readonly rounds: number;
  /**
   * Other builds of digestpin measured in the same run (DIGESTPIN_BENCH_VARIANTS), e.g. the
   * commit before an optimization: `before=/tmp/before/dist`.
   */
  readonly variants?: readonly Variant[];
}

/** Another build (or log level) of digestpin, run next to this one. */
export interface Variant {
  readonly name: string;
  readonly dist: string;
  readonly logLevel?: string;
  readonly nodeArgs?: readonly string[];
}

export const WARM_DEFAULTS: WarmOptions = {
  connections: 32,
  maxSeconds: 5,
  rates: [500, 1000, 2000],
  rateSeconds: 5,
  rounds: 5,
};

/**
 * Main-thread garbage collection pauses a server started with `--trace-gc` (a variant's Node
 * flag) printed into its log after byte `from`: their total and the longest, in ms, and how
 * many. Undefined for a server without the flag.
 */
async function gcPauses(
  logFile: string,
  from: number,
): Promise<{ totalMs: number; longestMs: number; count: number } | undefined> {
  const text = (await readFile(logFile)).subarray(from).toString("utf8");
  let totalMs = 0;
  let longestMs = 0;
  let count = 0;
  for (const match of text.matchAll(
    / ms: (?:Scavenge|Mark-Compact|Minor Mark-Sweep)\b.*?, ([\d.]+) \/ [\d.]+ ms/g,
  )) {
    const pause = Number(match[1]);
    totalMs += pause;
    longestMs = Math.max(longestMs, pause);
    count++;
  }
  return count === 0 ? undefined : { totalMs, longestMs, count };
}

/** The answer digestpin gives the warm review must be a rewrite of all three images. */
export const EXPECT_PATCH = '"patchType":"JSONPatch"';

export interface WarmSetup {
  readonly digestpin: Target & { readonly metricsUrl: string };
  readonly bodyFile: string;
  readonly answer: string;
}

/**
 * digestpin serving the warm pod's pins (cache TTL 1 h), its cache warmed by one review;
 * `signatures`: the policy's signature rules (default none).
 */
export async function startWarmDigestpin(
  ctx: BenchContext,
  registry: BenchRegistry,
  options: {
    readonly nodeArgs?: readonly string[];
    readonly name?: string;
    readonly variant?: Pick<Variant, "dist" | "logLevel">;
    readonly signatures?: BenchPolicyOptions["signatures"];
    /** The CPUs to run on (bench/lib/cpus.ts), in comparisons with the limit. */
    readonly cpus?: CpuRole;
  } = {},
): Promise<WarmSetup> {
  const { nodeArgs = [], name = "digestpin", variant, signatures } = options;
  const policyFile = await ctx.file(
    `${name}-policy.yaml`,
    benchPolicy({
      registryHost: registry.host,
      caPem: registry.registry.caPem,
      pins: registry.warm.map((image) => [
        `${registry.host}/${image.repository}:${image.tag}`,
        image.digest,
      ]),
      cacheTTL: "1h",
      ...(signatures !== undefined && { signatures }),
    }),
  );
  const images = registry.warm.map((image) => image.ref) as [string, string, string];
  const body = JSON.stringify(
    podReview({ uid: "0b6f7c2e-1d3a-4c5b-9e8f-7a6b5c4d3e2f", namespace: "shop", images }),
  );
  const bodyFile = await ctx.file("warm-review.json", body);
  const digestpin = await startDigestpin({
    dir: ctx.dir,
    serving: ctx.serving,
    policy: { file: policyFile },
    nodeArgs,
    name,
    ...(variant?.dist !== undefined && { dist: variant.dist }),
    ...(variant?.logLevel !== undefined && { logLevel: variant.logLevel }),
    ...(options.cpus !== undefined && { cpus: options.cpus }),
  });
  ctx.teardown(() => digestpin.child.stop());
  const first = await ctx.post(digestpin.url, body);
  if (first.status !== 200 || !first.text.includes(EXPECT_PATCH))
    throw new Error(`digestpin did not rewrite the warm review: ${first.status} ${first.text}`);
  return { digestpin, bodyFile, answer: first.text };
}

/**
 * Group 1: the warm path. digestpin and the bare node:https limit, in the same run, each
 * measured for maximum throughput (closed loop) and for latency at fixed rates (open loop).
 * Runs alternate between the two so drift of a noisy machine hits both alike.
 */
export async function warmGroup(
  ctx: BenchContext,
  registry: BenchRegistry,
  options: WarmOptions = WARM_DEFAULTS,
): Promise<GroupResult> {
  const { digestpin, bodyFile, answer } = await startWarmDigestpin(ctx, registry, {
    cpus: "servers",
  });
  const limitAnswer = await ctx.file("limit-answer.json", answer);
  const limit = await startLimit(ctx.dir, ctx.serving, limitAnswer, [], "servers");
  ctx.teardown(() => limit.child.stop());
  const variants: Target[] = [];
  for (const variant of options.variants ?? []) {
    const started = await startWarmDigestpin(ctx, registry, {
      nodeArgs: variant.nodeArgs ?? [],
      name: variant.name,
      variant,
      cpus: "servers",
    });
    if (started.answer !== answer) throw new Error(`${variant.name} answers differently`);
    variants.push(started.digestpin);
  }
  const targets = [limit, ...variants, digestpin];
  const plan = { kind: "same", bodyFile } as const;
  // Each round starts with the next target, so none is always first (or last).
  const order = (round: number): Target[] => [
    ...targets.slice(round % targets.length),
    ...targets.slice(0, round % targets.length),
  ];
  let failures = 0;

  const max = new Map(
    targets.map((t) => [
      t.name,
      {
        rps: [] as number[],
        cpu: [] as number[],
        ratio: [] as number[],
        cpuRatio: [] as number[],
        gc: [] as number[],
        longestGc: [] as number[],
      },
    ]),
  );
  for (let round = 0; round < options.rounds; round++) {
    const rps = new Map<string, number>();
    const cpu = new Map<string, number>();
    for (const target of order(round)) {
      ctx.log(`warm: ${target.name}, maximum throughput, round ${round + 1}/${options.rounds}`);
      const logBefore = (await stat(target.child.logFile)).size;
      const cpuBefore = await cpuMsOf(target.child.pid);
      const result = await closedLoop(
        {
          url: target.url,
          connections: options.connections,
          durationS: options.maxSeconds,
          plan,
          expect: EXPECT_PATCH,
          warmupS: 1,
        },
        ctx.dir,
        "load",
      );
      const cpuMs = (await cpuMsOf(target.child.pid)) - cpuBefore;
      const gc = await gcPauses(target.child.logFile, logBefore);
      // The warm-up second ran at the same pace: spread the CPU over every request served.
      const served = result.total * ((options.maxSeconds + 1) / options.maxSeconds);
      max.get(target.name)?.rps.push(result.requestsPerSecond);
      max.get(target.name)?.cpu.push((cpuMs * 1000) / served);
      rps.set(target.name, result.requestsPerSecond);
      cpu.set(target.name, (cpuMs * 1000) / served);
      max.get(target.name)?.gc.push(((gc?.totalMs ?? NaN) * 1000) / served);
      max.get(target.name)?.longestGc.push(gc?.longestMs ?? NaN);
      failures += result.errors + result.non2xx + result.unexpected;
    }
    for (const target of targets) {
      max.get(target.name)?.ratio.push((rps.get(target.name) ?? NaN) / (rps.get("limit") ?? NaN));
      max
        .get(target.name)
        ?.cpuRatio.push((cpu.get(target.name) ?? NaN) / (cpu.get("limit") ?? NaN));
    }
  }
  const fixed = new Map<string, number[][]>();
  for (const rate of options.rates) {
    for (let round = 0; round < options.rounds; round++) {
      for (const target of order(round)) {
        ctx.log(`warm: ${target.name} at ${rate} req/s, round ${round + 1}/${options.rounds}`);
        const result = await openLoop(
          {
            url: target.url,
            ca: ctx.caPem,
            rate,
            durationMs: options.rateSeconds * 1000,
            warmupMs: 1000,
            maxConnections: options.connections,
            plan,
            expect: EXPECT_PATCH,
          },
          ctx.dir,
          "load",
        );
        const key = `${target.name}@${rate}`;
        fixed.set(key, [...(fixed.get(key) ?? []), [result.latencyMs.p50, result.latencyMs.p99]]);
        failures += result.errors + result.unexpected;
      }
    }
  }
  await limit.child.stop();
  for (const variant of variants) await variant.child.stop();

  const latency = (name: string, rate: number): [number, number] => {
    const runs = fixed.get(`${name}@${rate}`) ?? [];
    return [median(runs.map((r) => r[0] ?? NaN)), median(runs.map((r) => r[1] ?? NaN))];
  };
  const ratio = median(max.get("digestpin")?.ratio ?? []);
  const cpuRatio = median(max.get("digestpin")?.cpuRatio ?? []);
  const rows = targets.map((target) => {
    const m = max.get(target.name);
    return [
      target.name,
      count(median(m?.cpu ?? [])),
      times(median(m?.cpuRatio ?? [])),
      `${ms(median(m?.gc ?? []))} / ${ms(median(m?.longestGc ?? []))}`,
      count(median(m?.rps ?? [])),
      percent(median(m?.ratio ?? [])),
      ...options.rates.map((rate) => {
        const [p50, p99] = latency(target.name, rate);
        return `${ms(p50)} / ${ms(p99)}`;
      }),
    ];
  });
  const p99At1000 = latency("digestpin", 1000)[1];
  const limitP99At1000 = latency("limit", 1000)[1];
  return {
    tables: [
      {
        title:
          "1. Warm path: /mutate, 3-container pinned Pod review (5.2 KB), registry answers cached",
        columns: [
          "server",
          "CPU µs/review",
          "÷ limit",
          "GC µs/review / longest ms",
          "max req/s",
          "÷ limit",
          ...options.rates.map((rate) => `p50 / p99 ms @ ${count(rate)}/s`),
        ],
        rows,
        notes: [
          `Medians of ${options.rounds} rounds, the servers taking turns (a different one first each round). ` +
            `Max: autocannon, ${options.connections} keep-alive HTTPS connections, ${options.maxSeconds} s after 1 s of warm-up; ` +
            `÷ limit is the median of each round's ratio. ` +
            `Fixed rates: open-loop driver (bench/load/open-loop.ts, at most ${options.connections} connections), ` +
            `${options.rateSeconds} s after 1 s of warm-up, latency from when each request was due. ` +
            `CPU µs/review (the headline: it holds on a busy machine, where req/s moves with what else runs): ` +
            `the server process's user+system CPU during the max run ÷ reviews answered; its ÷ limit is the median of each round's ratio. ` +
            `GC (servers run with --trace-gc only): main-thread pauses V8 printed during the max run ÷ reviews answered, and the longest pause. ` +
            `Failed or unexpected answers in this group: ${failures}.`,
          "limit: bare node:https, reads the body, JSON.parse, writes a fixed AdmissionReview (digestpin's own answer, same bytes); " +
            "both run with the Node flags of the image's ENTRYPOINT.",
          cpuNote(),
        ],
      },
    ],
    checks: [
      {
        target: "warm CPU per review ≤ 1.25 × the bare-Node limit's",
        measured: Number.isNaN(cpuRatio) ? "–" : times(cpuRatio),
        met: cpuRatio <= 1.25,
      },
      {
        target: "warm throughput ≥ 70 % of the bare-Node limit",
        measured: percent(ratio),
        met: ratio >= 0.7,
      },
      {
        target: "warm p99 ≤ 5 ms at 1,000 req/s",
        measured: Number.isNaN(p99At1000) ? "–" : `${ms(p99At1000)} ms`,
        met: Number.isNaN(p99At1000) ? "not run" : p99At1000 <= 5,
      },
      {
        target: "warm p99 at 1,000 req/s within 1 ms of the limit's (same run)",
        measured: Number.isNaN(p99At1000)
          ? "–"
          : `${ms(p99At1000)} ms (limit ${ms(limitP99At1000)} ms)`,
        met: Number.isNaN(p99At1000) ? "not run" : p99At1000 - limitP99At1000 <= 1,
      },
    ],
  };
}
