/**
 * Pod creates (or server-side dry-runs) through the API server, as its own process: `count`
 * requests one after another (after `warmup` unmeasured ones), each a new Pod of the warm
 * pod's shape. Measures each request's latency and checks what the API server stored: with
 * digestpin registered every image carries the pinned digest.
 *
 *   node --import tsx bench/load/pod-creates.ts CONFIG.json   → one JSON summary on stdout
 */
import { readFileSync } from "node:fs";
import { Pool } from "undici";
import { percentiles } from "../lib/stats.ts";

export interface PodCreatesConfig {
  readonly apiServer: string;
  readonly token: string;
  readonly ca: string;
  readonly namespace: string;
  /** The Pod to create (metadata.name and metadata.namespace are replaced per request). */
  readonly podFile: string;
  readonly dryRun: boolean;
  readonly count: number;
  readonly warmup: number;
  /** Whether every stored image must carry a digest (digestpin registered) or none may. */
  readonly expectDigests: boolean;
  readonly prefix: string;
}

export interface PodCreatesSummary {
  readonly count: number;
  readonly ok: number;
  readonly wrong: number;
  readonly failed: number;
  /** What went wrong first (a failed request's status and message, or a wrong image), if anything did. */
  readonly firstProblem?: string;
  readonly latencyMs: ReturnType<typeof percentiles>;
}

async function main(): Promise<void> {
  const configFile = process.argv[2];
  if (configFile === undefined) throw new Error("usage: pod-creates.ts CONFIG.json");
  const config = JSON.parse(readFileSync(configFile, "utf8")) as PodCreatesConfig;
  const pod = JSON.parse(readFileSync(config.podFile, "utf8")) as {
    metadata: Record<string, unknown>;
  };
  const pool = new Pool(config.apiServer, { connections: 1, connect: { ca: config.ca } });
  const path = `/api/v1/namespaces/${config.namespace}/pods${config.dryRun ? "?dryRun=All" : ""}`;
  const headers = { authorization: `Bearer ${config.token}`, "content-type": "application/json" };
  let ok = 0;
  let wrong = 0;
  let failed = 0;
  let firstProblem: string | undefined;
  const problem = (text: string): void => {
    firstProblem ??= text;
  };
  const latencies: number[] = [];
  for (let i = 0; i < config.warmup + config.count; i++) {
    const name = `${config.prefix}-${i}`;
    const body = JSON.stringify({
      ...pod,
      metadata: { ...pod.metadata, name, namespace: config.namespace },
    });
    const started = performance.now();
    try {
      const response = await pool.request({ path, method: "POST", headers, body });
      const text = await response.body.text();
      const elapsed = performance.now() - started;
      if (i < config.warmup) continue;
      latencies.push(elapsed);
      if (response.statusCode !== 201) {
        failed++;
        problem(`${name}: ${response.statusCode} ${text.slice(0, 500)}`);
        continue;
      }
      const stored = JSON.parse(text) as { spec: { containers: { image: string }[] } };
      const images = stored.spec.containers.map((c) => c.image);
      const pinned = images.filter((image) => image.includes("@sha256:")).length;
      if (pinned === (config.expectDigests ? images.length : 0)) ok++;
      else {
        wrong++;
        problem(`${name}: images ${images.join(", ")}`);
      }
    } catch (error) {
      if (i < config.warmup) continue;
      failed++;
      problem(`${name}: ${String(error)}`);
    }
  }
  await pool.close();
  const summary: PodCreatesSummary = {
    count: config.count,
    ok,
    wrong,
    failed,
    ...(firstProblem !== undefined && { firstProblem }),
    latencyMs: percentiles(latencies),
  };
  process.stdout.write(JSON.stringify(summary) + "\n");
}

await main();
