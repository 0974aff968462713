/**
 * Group `signatures` (issue 22): the warm path with every image under a required-signature rule,
 * next to the same policy without it, in one run; and the registry requests the signed runs made.
 */
import { signWarmImages } from "../fixtures/signatures.ts";
import type { BenchSignatureRule } from "../fixtures/policy.ts";
import type { BenchRegistry } from "../fixtures/registry.ts";
import type { BenchContext } from "../lib/context.ts";
import { cpuNote } from "../lib/cpus.ts";
import { closedLoop, openLoop } from "../lib/load.ts";
import { cpuMsOf } from "../lib/process.ts";
import { count, ms, times, type GroupResult } from "../lib/report.ts";
import type { Target } from "../lib/servers.ts";
import { median } from "../lib/stats.ts";
import { EXPECT_PATCH, startWarmDigestpin, type Variant } from "./warm.ts";

export interface SignaturesOptions {
  readonly connections: number;
  /** Seconds of each maximum-throughput run (after 1 s of warm-up). */
  readonly maxSeconds: number;
  /** The fixed rate of the latency runs (open loop); undefined: none (--max-only). */
  readonly rate: number | undefined;
  /** Seconds of each fixed-rate run (after 1 s of warm-up). */
  readonly rateSeconds: number;
  /** Rounds, the two servers taking turns (which goes first alternates); tables give medians. */
  readonly rounds: number;
  /** Other builds of digestpin run with the signature rule too (DIGESTPIN_BENCH_VARIANTS). */
  readonly variants?: readonly Variant[];
}

export const SIGNATURES_DEFAULTS: SignaturesOptions = {
  connections: 32,
  maxSeconds: 5,
  rate: 1000,
  rateSeconds: 5,
  rounds: 5,
};

/** What one server's rounds measured; ratios are each round's, signed ÷ unsigned. */
interface Figures {
  cpu: number[];
  rps: number[];
  p50: number[];
  p99: number[];
  registryRequests: number;
}

/**
 * Two digestpin serve processes with the warm policy (cache TTL 1 h): one without signature
 * rules, one whose rule requires every image to be signed by a P-256 key made here (its `.sig`
 * tags pushed to the registry first). Each is measured as group 1 measures the warm path.
 */
export async function signaturesGroup(
  ctx: BenchContext,
  registry: BenchRegistry,
  options: SignaturesOptions = SIGNATURES_DEFAULTS,
): Promise<GroupResult> {
  ctx.log("signatures: signing the warm images (ECDSA P-256, .sig tags)");
  const signed = await signWarmImages(ctx, registry);
  const rule: BenchSignatureRule = {
    images: [`${registry.host}/**`],
    required: true,
    keys: [{ name: "qa", pem: signed.publicKeyPem }],
  };
  const requestsSoFar = async (): Promise<number> =>
    (await registry.registry.accessLog()).filter((entry) => entry.path.startsWith("/v2/")).length;
  const plain = await startWarmDigestpin(ctx, registry, {
    name: "digestpin-no-signatures",
    cpus: "servers",
  });
  const logBefore = (await registry.registry.accessLog()).length;
  const required = await startWarmDigestpin(ctx, registry, {
    name: "digestpin-signatures",
    signatures: [rule],
    cpus: "servers",
  });
  // The first review (its answer, a rewrite, is checked by startWarmDigestpin) read every
  // image's .sig tag: the rule is in force, and what follows is served from the cache.
  const firstReads = (await registry.registry.accessLog()).slice(logBefore);
  for (const tag of signed.sigTags) {
    const [repository, reference] = tag.split(":");
    const path = `/v2/${repository ?? ""}/manifests/${reference ?? ""}`;
    if (!firstReads.some((entry) => entry.path === path && entry.status === 200))
      throw new Error(`signatures: the first signed review did not read ${tag}`);
  }
  const variants: Target[] = [];
  for (const variant of options.variants ?? []) {
    const started = await startWarmDigestpin(ctx, registry, {
      name: `digestpin-signatures-${variant.name}`,
      signatures: [rule],
      variant,
      ...(variant.nodeArgs !== undefined && { nodeArgs: variant.nodeArgs }),
      cpus: "servers",
    });
    variants.push(started.digestpin);
  }
  const targets: Target[] = [plain.digestpin, required.digestpin, ...variants];
  const figures = new Map<string, Figures>(
    targets.map((t) => [t.name, { cpu: [], rps: [], p50: [], p99: [], registryRequests: 0 }]),
  );
  const order = (round: number): Target[] => (round % 2 === 0 ? targets : [...targets].reverse());
  const plan = { kind: "same", bodyFile: plain.bodyFile } as const;
  let failures = 0;

  /** Runs `run` against `target`, adding the registry requests made meanwhile to its figures. */
  const counted = async <T>(target: Target, run: () => Promise<T>): Promise<T> => {
    const before = await requestsSoFar();
    const result = await run();
    const f = figures.get(target.name);
    if (f !== undefined) f.registryRequests += (await requestsSoFar()) - before;
    return result;
  };
  for (let round = 0; round < options.rounds; round++) {
    for (const target of order(round)) {
      ctx.log(`signatures: ${target.name}, maximum throughput, round ${round + 1}`);
      const cpuBefore = await cpuMsOf(target.child.pid);
      const result = await counted(target, () =>
        closedLoop(
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
        ),
      );
      const cpuMs = (await cpuMsOf(target.child.pid)) - cpuBefore;
      // The warm-up second ran at the same pace: spread the CPU over every request served.
      const served = result.total * ((options.maxSeconds + 1) / options.maxSeconds);
      figures.get(target.name)?.cpu.push((cpuMs * 1000) / served);
      figures.get(target.name)?.rps.push(result.requestsPerSecond);
      failures += result.errors + result.non2xx + result.unexpected;
    }
    if (options.rate === undefined) continue;
    const rate = options.rate;
    for (const target of order(round)) {
      ctx.log(`signatures: ${target.name} at ${rate} req/s, round ${round + 1}`);
      const result = await counted(target, () =>
        openLoop(
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
        ),
      );
      figures.get(target.name)?.p50.push(result.latencyMs.p50);
      figures.get(target.name)?.p99.push(result.latencyMs.p99);
      failures += result.errors + result.unexpected;
    }
  }
  await plain.digestpin.child.stop();
  await required.digestpin.child.stop();
  for (const variant of variants) await variant.child.stop();
  const sizes = [plain.answer, required.answer].map((answer) => Buffer.byteLength(answer));
  return report(
    options,
    figures,
    [plain.digestpin.name, required.digestpin.name],
    variants.map((variant) => variant.name),
    { failures, sizes },
  );
}

function report(
  options: SignaturesOptions,
  figures: ReadonlyMap<string, Figures>,
  [plainName, signedName]: readonly [string, string],
  variantNames: readonly string[],
  { failures, sizes }: { failures: number; sizes: readonly number[] },
): GroupResult {
  const empty: Figures = { cpu: [], rps: [], p50: [], p99: [], registryRequests: NaN };
  const plain = figures.get(plainName) ?? empty;
  const signed = figures.get(signedName) ?? empty;
  /** The median of each round's ratio, `of` a signed server ÷ the unsigned one. */
  const ratio = (of: (f: Figures) => readonly number[], server = signed): number =>
    median(of(server).map((value, i) => value / (of(plain)[i] ?? NaN)));
  const cpuRatio = ratio((f) => f.cpu);
  const p99Ratio = ratio((f) => f.p99);
  const rateRun = options.rate !== undefined;
  const row = (name: string, f: Figures): string[] => [
    name,
    count(median(f.cpu)),
    times(ratio((x) => x.cpu, f)),
    count(median(f.rps)),
    times(ratio((x) => x.rps, f)),
    rateRun ? `${ms(median(f.p50))} / ${ms(median(f.p99))}` : "–",
    rateRun ? times(ratio((x) => x.p99, f)) : "–",
    count(f.registryRequests),
  ];
  const p99 = median(signed.p99);
  const plainP99 = median(plain.p99);
  const latencyMet = cpuRatio <= 1.25 && p99Ratio <= 1.25;
  return {
    tables: [
      {
        title:
          "8. Signatures required: the warm path (1.) with a required cosign signature on every image, and without the rule",
        columns: [
          "policy",
          "CPU µs/review",
          "÷ no rule",
          "max req/s",
          "÷ no rule",
          `p50 / p99 ms @ ${count(options.rate ?? NaN)}/s`,
          "p99 ÷ no rule",
          "registry requests",
        ],
        rows: [
          row("no signature rule", plain),
          row("signatures required (1 P-256 key, .sig tag)", signed),
          ...variantNames.map((name) =>
            row(
              `signatures required, build ${name.replace(/^digestpin-signatures-/, "")}`,
              figures.get(name) ?? empty,
            ),
          ),
        ],
        notes: [
          `Two digestpin serve processes, the warm policy of table 1 (cache TTL 1 h); the second's adds one rule: every image of the registry (\`host/**\`) required to be signed by one ECDSA P-256 key, made in the run with node:crypto, the three digests signed in cosign's \`.sig\` tag format (what \`cosign sign --key\` v2 pushes) on the bench's registry. ` +
            `Each server's first review read the three \`.sig\` tags (checked); after it, a digest every trusted key signed is kept verified for a day, by digest and key set. ` +
            `Medians of ${options.rounds} rounds, the servers taking turns (the other first each round); ÷ no rule is the median of each round's ratio. ` +
            `Max: autocannon, ${options.connections} keep-alive HTTPS connections, ${options.maxSeconds} s after 1 s of warm-up; CPU µs/review: the server's user+system CPU during the max run ÷ reviews answered. ` +
            `Fixed rate: the open-loop driver, ${options.rateSeconds} s after 1 s of warm-up. ` +
            `Registry requests: every /v2/ request in the registry's access log during that server's runs (warm-up included). ` +
            `Answers: ${sizes.map(count).join(" and ")} bytes. ` +
            `Failed or unexpected answers in this group: ${failures}.`,
          cpuNote(),
        ],
      },
    ],
    checks: [
      {
        target: `signatures required: warm p99 at ${count(options.rate ?? NaN)} req/s and CPU per review each ≤ 1.25 × the same policy's without the signature rule (same run) (issue 22)`,
        measured: rateRun
          ? `p99 ${ms(p99)} ms (no rule ${ms(plainP99)}, ${times(p99Ratio)}); CPU ${count(median(signed.cpu))} µs (${times(cpuRatio)})`
          : "–",
        met: rateRun ? latencyMet : "not run",
      },
      {
        target:
          "signatures required: registry requests during the warm runs = 0 (verifications cached) (issue 22)",
        measured: count(signed.registryRequests),
        met: signed.registryRequests === 0,
      },
    ],
  };
}
