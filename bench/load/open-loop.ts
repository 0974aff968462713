/**
 * Fixed-rate (open-loop) load, as its own process: request i is due at start + i/rate whatever
 * happened to the earlier ones, and its latency is measured from when it was due, so a server
 * that stalls is charged for the requests that queued behind the stall (no coordinated
 * omission). HTTPS with keep-alive over a pool that grows as concurrency needs.
 *
 *   node --import tsx bench/load/open-loop.ts CONFIG.json   → one JSON summary on stdout
 *
 * autocannon's own rate limit is not used for these rows: it lets each connection send its
 * share of a second back to back and then pause, so "1,000 req/s" arrives in bursts.
 */
import { readFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Pool } from "undici";
import { percentiles } from "../lib/stats.ts";
import { bodySource, type BodyPlan } from "./plan.ts";

export interface OpenLoopConfig {
  readonly url: string;
  readonly ca: string;
  readonly rate: number;
  readonly durationMs: number;
  readonly plan: BodyPlan;
  /** A string every answer must contain (e.g. `"patchType"`). */
  readonly expect?: string;
  readonly maxConnections?: number;
  /** Unmeasured requests at the same rate first (connections, JIT, caches). */
  readonly warmupMs?: number;
}

export interface OpenLoopSummary {
  readonly rate: number;
  readonly sent: number;
  readonly ok: number;
  readonly errors: number;
  readonly unexpected: number;
  readonly achievedRate: number;
  readonly latencyMs: ReturnType<typeof percentiles>;
  readonly clientLagP99Ms: number;
  readonly connections: number;
}

async function main(): Promise<void> {
  const configFile = process.argv[2];
  if (configFile === undefined) throw new Error("usage: open-loop.ts CONFIG.json");
  const config = JSON.parse(readFileSync(configFile, "utf8")) as OpenLoopConfig;
  const url = new URL(config.url);
  let connections = 0;
  const pool = new Pool(url.origin, {
    connections: config.maxConnections ?? 256,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    connect: { ca: config.ca, servername: url.hostname === "127.0.0.1" ? "" : url.hostname },
  });
  pool.on("connect", () => connections++);
  const source = bodySource(config.plan);
  const headers = { "content-type": "application/json" };

  const run = async (durationMs: number, record: boolean) => {
    const total = Math.min(Math.round((config.rate * durationMs) / 1000), source.limit);
    const interval = 1000 / config.rate;
    const latencies = new Float64Array(total);
    let ok = 0;
    let errors = 0;
    let unexpected = 0;
    let done = 0;
    const lag = monitorEventLoopDelay({ resolution: 1 });
    lag.enable();
    const start = performance.now() + 20;
    const finished = new Promise<void>((resolve) => {
      const send = (i: number, due: number): void => {
        pool
          .request({ path: url.pathname, method: "POST", headers, body: source.next() })
          .then(async (response) => {
            const text = await response.body.text();
            latencies[i] = performance.now() - due;
            if (
              response.statusCode === 200 &&
              (config.expect === undefined || text.includes(config.expect))
            )
              ok++;
            else unexpected++;
          })
          .catch(() => {
            latencies[i] = performance.now() - due;
            errors++;
          })
          .finally(() => {
            if (++done === total) resolve();
          });
      };
      let i = 0;
      const tick = (): void => {
        const now = performance.now();
        while (i < total && start + i * interval <= now) {
          send(i, start + i * interval);
          i++;
        }
        if (i < total) setTimeout(tick, Math.max(0, start + i * interval - performance.now()));
      };
      setTimeout(tick, 20);
    });
    await finished;
    lag.disable();
    const elapsed = performance.now() - start;
    return record
      ? {
          rate: config.rate,
          sent: total,
          ok,
          errors,
          unexpected,
          achievedRate: (total * 1000) / elapsed,
          latencyMs: percentiles(latencies),
          clientLagP99Ms: lag.percentile(99) / 1e6,
          connections,
        }
      : undefined;
  };

  if ((config.warmupMs ?? 0) > 0) await run(config.warmupMs ?? 0, false);
  await sleep(200);
  const summary = await run(config.durationMs, true);
  await pool.close();
  process.stdout.write(JSON.stringify(summary) + "\n");
}

await main();
