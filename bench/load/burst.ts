/**
 * N identical reviews at the same instant, as its own process: N keep-alive HTTPS connections
 * are opened and warmed first (each answers one `warmBody` review), then every connection sends
 * `burstBody` in the same tick. For "1,000 concurrent reviews of one new tag".
 *
 *   node --import tsx bench/load/burst.ts CONFIG.json   → one JSON summary on stdout
 */
import { readFileSync } from "node:fs";
import { Pool } from "undici";
import { percentiles } from "../lib/stats.ts";

export interface BurstConfig {
  readonly url: string;
  readonly ca: string;
  readonly concurrency: number;
  readonly warmBodyFile: string;
  readonly burstBodyFile: string;
  /** A string every burst answer must contain. */
  readonly expect?: string;
}

export interface BurstSummary {
  readonly concurrency: number;
  readonly connections: number;
  readonly ok: number;
  readonly unexpected: number;
  readonly errors: number;
  /** Distinct answers (minus the uid): 1 when every review got the same verdict. */
  readonly distinctAnswers: number;
  readonly latencyMs: ReturnType<typeof percentiles>;
  readonly wallMs: number;
}

async function main(): Promise<void> {
  const configFile = process.argv[2];
  if (configFile === undefined) throw new Error("usage: burst.ts CONFIG.json");
  const config = JSON.parse(readFileSync(configFile, "utf8")) as BurstConfig;
  const url = new URL(config.url);
  let connections = 0;
  const pool = new Pool(url.origin, {
    connections: config.concurrency,
    pipelining: 1,
    keepAliveTimeout: 120_000,
    keepAliveMaxTimeout: 120_000,
    connect: { ca: config.ca, servername: "" },
  });
  pool.on("connect", () => connections++);
  const headers = { "content-type": "application/json" };
  const post = async (body: string) => {
    const response = await pool.request({ path: url.pathname, method: "POST", headers, body });
    return { status: response.statusCode, text: await response.body.text() };
  };
  const warm = readFileSync(config.warmBodyFile, "utf8");
  await Promise.all(Array.from({ length: config.concurrency }, () => post(warm)));

  const burst = readFileSync(config.burstBodyFile, "utf8");
  const latencies: number[] = [];
  const answers = new Set<string>();
  let ok = 0;
  let unexpected = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: config.concurrency }, async () => {
      try {
        const { status, text } = await post(burst);
        latencies.push(performance.now() - started);
        answers.add(text);
        if (status === 200 && (config.expect === undefined || text.includes(config.expect))) ok++;
        else unexpected++;
      } catch {
        errors++;
      }
    }),
  );
  const wallMs = performance.now() - started;
  await pool.close();
  const summary: BurstSummary = {
    concurrency: config.concurrency,
    connections,
    ok,
    unexpected,
    errors,
    distinctAnswers: answers.size,
    latencyMs: percentiles(latencies),
    wallMs,
  };
  process.stdout.write(JSON.stringify(summary) + "\n");
}

await main();
