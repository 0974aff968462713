/**
 * Maximum throughput, as its own process: autocannon keeps `connections` keep-alive HTTPS
 * connections busy (a request goes out as soon as the previous answer is in) for `durationS`
 * seconds, or until the plan's unique bodies are used up.
 *
 *   node --import tsx bench/load/closed-loop.ts CONFIG.json   → one JSON summary on stdout
 */
import { readFileSync } from "node:fs";
import autocannon from "autocannon";
import { bodySource, type BodyPlan } from "./plan.ts";

export interface ClosedLoopConfig {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  readonly plan: BodyPlan;
  /** A string every answer must contain; answers without it are counted as `unexpected`. */
  readonly expect?: string;
  /** Unmeasured seconds first (connections, JIT, caches); only for plans of one body. */
  readonly warmupS?: number;
}

export interface ClosedLoopSummary {
  readonly requestsPerSecond: number;
  readonly total: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly unexpected: number;
  /** autocannon's latency histogram, whole milliseconds. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly durationS: number;
}

async function main(): Promise<void> {
  const configFile = process.argv[2];
  if (configFile === undefined) throw new Error("usage: closed-loop.ts CONFIG.json");
  const config = JSON.parse(readFileSync(configFile, "utf8")) as ClosedLoopConfig;
  const source = bodySource(config.plan);
  const base = {
    url: config.url,
    connections: config.connections,
    method: "POST",
    headers: { "content-type": "application/json" },
    timeout: 30,
  };
  if ((config.warmupS ?? 0) > 0) {
    const body = source.next();
    await autocannon({ ...base, body, duration: config.warmupS ?? 0 });
  }
  let unexpected = 0;
  const result = await autocannon({
    ...base,
    ...(Number.isFinite(source.limit) ? { amount: source.limit } : { duration: config.durationS }),
    requests: [{ setupRequest: (request) => ({ ...request, body: source.next() }) }],
    verifyBody: (body) => {
      if (config.expect !== undefined && !body.includes(config.expect)) unexpected++;
      return true;
    },
  });
  const summary: ClosedLoopSummary = {
    requestsPerSecond: result.requests.total / result.duration,
    total: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    unexpected,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    durationS: result.duration,
  };
  process.stdout.write(JSON.stringify(summary) + "\n");
}

await main();
