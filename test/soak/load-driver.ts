/**
 * A bounded open-loop load driver, run as its own process (`node --import tsx
 * test/soak/load-driver.ts CONFIG.json SUMMARY.json`), so its work does not share an event loop with the
 * test that injects faults. It sends `total` AdmissionReviews at `rate` per second from
 * `startAt`, round-robin over the targets whose /readyz says ready (as endpoints would), checks
 * every answer against its case, and writes a JSON summary to SUMMARY.json.
 *
 * Like the API server, it retries a request once on a fresh connection when the connection
 * failed before an answer (a keep-alive connection the server closed); every such attempt is
 * counted, and a request whose retries all failed is a failed request.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { TLSSocket } from "node:tls";
import { Agent, buildConnector, request } from "undici";
import { judgeResponse, type ReviewCase } from "./reviews.ts";

export interface DriverConfig {
  readonly targets: readonly { readonly url: string; readonly readyUrl?: string }[];
  readonly ca: string;
  readonly rate: number;
  readonly total: number;
  /** Epoch ms of the first request. */
  readonly startAt: number;
  readonly cases: readonly ReviewCase[];
  /** Client-side timeout of one attempt: the webhook's timeoutSeconds. */
  readonly timeoutMs: number;
  /** Attempts after the first, on a connection failure before any answer. */
  readonly retries: number;
  readonly maxInFlight: number;
  /** Close each connection after this many requests (to see certificate rotations). */
  readonly requestsPerConnection?: number;
  readonly readinessPollMs?: number;
  readonly bucketMs?: number;
}

export interface Bucket {
  /** ms since startAt. */
  readonly t: number;
  sent: number;
  labels: Record<string, number>;
  wrong: number;
  failed: number;
  attemptFailures: number;
  slowest: number;
}

export interface DriverSummary {
  readonly sent: number;
  readonly answered: number;
  readonly statuses: Record<string, number>;
  readonly labels: Record<string, number>;
  readonly wrong: number;
  readonly wrongExamples: readonly string[];
  /** Requests that never got an answer, after retries. */
  readonly failed: number;
  readonly failedExamples: readonly string[];
  /** Attempts that failed (a retried request that then succeeded counts here only). */
  readonly attemptFailures: Record<string, number>;
  readonly retried: number;
  readonly tlsFailures: number;
  readonly latencyMs: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly max: number;
  };
  /** Distinct serving certificates seen (SHA-256 fingerprints), in order of first sight. */
  readonly certificates: readonly string[];
  readonly connections: number;
  readonly maxInFlight: number;
  readonly durationMs: number;
  /** The driver's own event-loop delay: when it is high, the machine starved the client too. */
  readonly clientLagMs: { readonly p99: number; readonly max: number };
  readonly timeline: readonly Bucket[];
  readonly perTarget: Record<string, number>;
}

const TLS_CODE = /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH)/;

export async function drive(config: DriverConfig): Promise<DriverSummary> {
  const bucketMs = config.bucketMs ?? 1000;
  const certificates: string[] = [];
  let connections = 0;
  const connect = buildConnector({ ca: config.ca, maxCachedSessions: 0 });
  const agent = new Agent({
    connections: 2048,
    keepAliveTimeout: 30_000,
    ...(config.requestsPerConnection !== undefined && {
      maxRequestsPerClient: config.requestsPerConnection,
    }),
    connect: (options, callback) => {
      connect(options, (error, socket) => {
        if (error !== null) {
          callback(error, null);
          return;
        }
        connections++;
        const fingerprint = (socket as TLSSocket).getPeerCertificate().fingerprint256;
        if (!certificates.includes(fingerprint)) certificates.push(fingerprint);
        callback(null, socket);
      });
    },
  });

  // Readiness, as endpoints see it: polled, and a target out of rotation gets no new requests.
  const ready = config.targets.map((target) => target.readyUrl === undefined);
  let polling = true;
  const pollers = config.targets.map(async (target, i) => {
    if (target.readyUrl === undefined) return;
    while (polling) {
      try {
        const response = await request(target.readyUrl, { headersTimeout: 1000 });
        await response.body.dump();
        ready[i] = response.statusCode === 200;
      } catch {
        ready[i] = false;
      }
      await sleep(config.readinessPollMs ?? 100);
    }
  });
  let next = 0;
  const pickTarget = async (deadline: number): Promise<number | undefined> => {
    for (;;) {
      for (let k = 0; k < config.targets.length; k++) {
        const i = (next + k) % config.targets.length;
        if (ready[i] === true) {
          next = i + 1;
          return i;
        }
      }
      if (Date.now() > deadline) return undefined;
      await sleep(20);
    }
  };

  const statuses: Record<string, number> = {};
  const labels: Record<string, number> = {};
  const attemptFailures: Record<string, number> = {};
  const perTarget: Record<string, number> = {};
  const wrongExamples: string[] = [];
  const failedExamples: string[] = [];
  const latencies: number[] = [];
  const timeline: Bucket[] = [];
  let wrong = 0;
  let failed = 0;
  let retried = 0;
  let tlsFailures = 0;
  let answered = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const bucket = (at: number): Bucket => {
    const index = Math.max(0, Math.floor((at - config.startAt) / bucketMs));
    for (let i = timeline.length; i <= index; i++)
      timeline.push({
        t: i * bucketMs,
        sent: 0,
        labels: {},
        wrong: 0,
        failed: 0,
        attemptFailures: 0,
        slowest: 0,
      });
    return timeline[index]!;
  };

  const one = async (n: number): Promise<void> => {
    const c = config.cases[n % config.cases.length]!;
    const uid = `soak-${n}`;
    const body = JSON.stringify({ ...c.review, request: { ...c.review.request, uid } });
    const started = Date.now();
    bucket(started).sent++;
    for (let attempt = 0; ; attempt++) {
      const target = await pickTarget(started + config.timeoutMs);
      if (target === undefined) {
        failed++;
        bucket(Date.now()).failed++;
        if (failedExamples.length < 5) failedExamples.push(`${uid}: no ready target`);
        return;
      }
      const url = config.targets[target]!.url;
      try {
        const response = await request(`${url}${c.path}`, {
          method: "POST",
          dispatcher: agent,
          headers: { "content-type": "application/json" },
          body,
          headersTimeout: config.timeoutMs,
          bodyTimeout: config.timeoutMs,
        });
        const text = await response.body.text();
        const elapsed = Date.now() - started;
        answered++;
        perTarget[url] = (perTarget[url] ?? 0) + 1;
        latencies.push(elapsed);
        const b = bucket(Date.now());
        b.slowest = Math.max(b.slowest, elapsed);
        statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
        const verdict =
          response.statusCode === 200
            ? judgeResponse(c, uid, JSON.parse(text))
            : { ok: false as const, why: `HTTP ${response.statusCode}: ${text.slice(0, 200)}` };
        if (verdict.ok) {
          labels[verdict.label] = (labels[verdict.label] ?? 0) + 1;
          b.labels[verdict.label] = (b.labels[verdict.label] ?? 0) + 1;
        } else {
          wrong++;
          b.wrong++;
          if (wrongExamples.length < 10)
            wrongExamples.push(`${uid} at ${started - config.startAt} ms: ${verdict.why}`);
        }
        return;
      } catch (error) {
        const e = error as { code?: string; cause?: { code?: string }; message?: string };
        const code = e.code ?? e.cause?.code ?? e.message ?? "unknown";
        attemptFailures[code] = (attemptFailures[code] ?? 0) + 1;
        bucket(Date.now()).attemptFailures++;
        if (TLS_CODE.test(code) || TLS_CODE.test(e.cause?.code ?? "")) tlsFailures++;
        const timedOut = code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT";
        if (attempt < config.retries && !timedOut) {
          retried++;
          continue;
        }
        failed++;
        bucket(Date.now()).failed++;
        if (failedExamples.length < 5)
          failedExamples.push(`${uid} at ${started - config.startAt} ms: ${code}`);
        return;
      }
    }
  };

  await sleep(Math.max(0, config.startAt - Date.now()));
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const pending = new Set<Promise<void>>();
  let sent = 0;
  const began = Date.now();
  while (sent < config.total) {
    const due = Math.min(
      config.total,
      Math.floor(((Date.now() - config.startAt) * config.rate) / 1000) + 1,
    );
    while (sent < due) {
      if (inFlight >= config.maxInFlight) break;
      const n = sent++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const p = one(n).finally(() => {
        inFlight--;
        pending.delete(p);
      });
      pending.add(p);
    }
    await sleep(5);
  }
  await Promise.all(pending);
  const durationMs = Date.now() - began;
  lag.disable();
  const clientLagMs = {
    p99: Math.round(lag.percentile(99) / 1e6),
    max: Math.round(lag.max / 1e6),
  };
  polling = false;
  await Promise.all(pollers);
  await agent.close();
  latencies.sort((a, b) => a - b);
  const quantile = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    sent,
    answered,
    statuses,
    labels,
    wrong,
    wrongExamples,
    failed,
    failedExamples,
    attemptFailures,
    retried,
    tlsFailures,
    latencyMs: {
      p50: quantile(0.5),
      p90: quantile(0.9),
      p99: quantile(0.99),
      max: latencies.at(-1) ?? 0,
    },
    certificates,
    connections,
    maxInFlight,
    durationMs,
    clientLagMs,
    timeline,
    perTarget,
  };
}

if (process.argv[1]?.endsWith("load-driver.ts") === true) {
  const [file, out] = process.argv.slice(2);
  if (file === undefined || out === undefined) {
    process.stderr.write("usage: load-driver.ts CONFIG.json SUMMARY.json\n");
    process.exit(2);
  }
  const config = JSON.parse(readFileSync(file, "utf8")) as DriverConfig;
  const summary = await drive(config);
  writeFileSync(out, JSON.stringify(summary));
}
