import { readFile } from "node:fs/promises";
import type { BenchRegistry } from "../fixtures/registry.ts";
import type { ClosedLoopSummary } from "../load/closed-loop.ts";
import type { BenchContext } from "../lib/context.ts";
import { closedLoop } from "../lib/load.ts";
import { count, ms, type GroupResult } from "../lib/report.ts";
import { startPeer, type Target } from "../lib/servers.ts";
import {
  burstReview,
  COLD_DEFAULTS,
  coldRuns,
  TagPlan,
  type ColdFigures,
  type ColdOptions,
} from "./cold.ts";
import { EXPECT_PATCH, startWarmDigestpin } from "./warm.ts";

export interface PeerInputs {
  /** The k8s-digester binary (DIGESTPIN_BENCH_DIGESTER), built elsewhere. */
  readonly binary: string | undefined;
  readonly kubeconfig: string;
  /** digestpin's cold figures from group 2 of this run (same reviews, same registry). */
  readonly digestpinCold: ColdFigures | undefined;
}

const NOT_RUN = "peer: not run (set DIGESTPIN_BENCH_DIGESTER)";

/**
 * Group 3: google/k8s-digester, the peer, fed the same reviews against the same registry (+20 ms)
 * as digestpin in this run: warm (the same review again and again) and cold (new tags, and
 * 1,000 concurrent reviews of one new tag). The peer caches nothing: each of its reviews asks
 * the registry about every image, one image after another.
 */
export async function peerGroup(
  ctx: BenchContext,
  registry: BenchRegistry,
  inputs: PeerInputs,
  options: ColdOptions = COLD_DEFAULTS,
): Promise<GroupResult> {
  if (inputs.binary === undefined || inputs.binary === "") {
    ctx.log(NOT_RUN);
    return {
      tables: [{ title: "3. Peer: google/k8s-digester", columns: ["peer"], rows: [[NOT_RUN]] }],
      checks: [
        {
          target: "ahead of k8s-digester on every row where both run",
          measured: "–",
          met: "not run",
        },
      ],
    };
  }
  const plan = new TagPlan(registry);
  const uniqueFile = await plan.file(ctx.dir, "peer-unique.jsonl", "p", options.uniqueReviews);
  const burstTag = "burst-peer";
  await registry.tag([...plan.tags, burstTag]);
  const warm = await startWarmDigestpin(ctx, registry, { name: "digestpin-peer-run" });
  const peer = await startPeer({
    binary: inputs.binary,
    dir: ctx.dir,
    serving: ctx.serving,
    kubeconfig: inputs.kubeconfig,
    registryCaFile: registry.registry.caFile,
  });
  ctx.teardown(() => peer.child.stop());
  const body = await ctx.post(peer.url, await readFile(warm.bodyFile, "utf8"));
  if (body.status !== 200 || !body.text.includes(EXPECT_PATCH))
    throw new Error(`k8s-digester did not rewrite the warm review: ${body.status} ${body.text}`);

  const warmRun = async (target: Target): Promise<ClosedLoopSummary> => {
    ctx.log(`peer: ${target.name}, warm review, 32 connections`);
    return closedLoop(
      {
        url: target.url,
        connections: 32,
        durationS: 5,
        plan: { kind: "same", bodyFile: warm.bodyFile },
        expect: EXPECT_PATCH,
        warmupS: 1,
      },
      ctx.dir,
    );
  };
  const warmDigestpin = await warmRun(warm.digestpin);
  const warmPeer = await warmRun(peer);
  await warm.digestpin.child.stop();
  const peerCold = await coldRuns(
    ctx,
    registry,
    peer,
    {
      uniqueFile,
      burstTag,
      warmFile: warm.bodyFile,
      burstFile: await ctx.file("peer-burst.json", burstReview(registry, burstTag)),
    },
    options,
  );
  await peer.child.stop();

  const dp = inputs.digestpinCold;
  const rows: string[][] = [];
  const ahead: boolean[] = [];
  const row = (
    name: string,
    d: number | undefined,
    p: number,
    higherIsBetter: boolean,
    format: (n: number) => string,
  ) => {
    rows.push([
      name,
      d === undefined ? "–" : format(d),
      format(p),
      d === undefined ? "–" : `${(higherIsBetter ? d / p : p / d).toFixed(1)}×`,
    ]);
    if (d !== undefined) ahead.push(higherIsBetter ? d > p : d < p);
  };
  row(
    "warm: max req/s (32 connections)",
    warmDigestpin.requestsPerSecond,
    warmPeer.requestsPerSecond,
    true,
    count,
  );
  row("warm: p50 ms", warmDigestpin.latencyMs.p50, warmPeer.latencyMs.p50, false, ms);
  row("warm: p99 ms", warmDigestpin.latencyMs.p99, warmPeer.latencyMs.p99, false, ms);
  row(
    `cold, 3 new tags per review: req/s (${options.connections} connections)`,
    dp?.unique.requestsPerSecond,
    peerCold.unique.requestsPerSecond,
    true,
    count,
  );
  row("cold: p50 ms", dp?.unique.latencyMs.p50, peerCold.unique.latencyMs.p50, false, ms);
  row("cold: p99 ms", dp?.unique.latencyMs.p99, peerCold.unique.latencyMs.p99, false, ms);
  row(
    `${count(options.burst)} concurrent reviews of 1 new tag: p99 ms`,
    dp?.burst.latencyMs.p99,
    peerCold.burst.latencyMs.p99,
    false,
    ms,
  );
  row(
    "… registry manifest requests for that tag",
    dp?.burst.registryRequests,
    peerCold.burst.registryRequests,
    false,
    count,
  );
  const failures =
    [warmDigestpin, warmPeer, peerCold.unique].reduce(
      (n, r) => n + r.errors + r.non2xx + r.unexpected,
      0,
    ) +
    peerCold.burst.errors +
    peerCold.burst.unexpected;
  return {
    tables: [
      {
        title:
          "3. Peer: google/k8s-digester (no cache) against the same registry (+20 ms), same reviews",
        columns: ["row", "digestpin", "k8s-digester", "digestpin ahead by"],
        rows,
        notes: [
          'k8s-digester caches nothing: every review asks the registry about each image (a /v2/ ping and a HEAD per image, one image after another), so its "warm" is as cold as its first review. ' +
            "It runs with its own defaults except: --offline (no imagePullSecrets lookups, as digestpin without --pull-secrets), the benchmark's serving certificate (--disable-cert-rotation), loopback ports, and the registry's CA through SSL_CERT_FILE. " +
            `Its binary comes from DIGESTPIN_BENCH_DIGESTER; this repository neither contains nor builds it. Failed or unexpected answers of the peer runs: ${failures}.`,
        ],
      },
    ],
    checks: [
      {
        target: "ahead of k8s-digester on every row where both run",
        measured: `${ahead.filter(Boolean).length} of ${ahead.length} rows`,
        met: ahead.every(Boolean),
      },
    ],
  };
}
