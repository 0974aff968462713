import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { podReview } from "../fixtures/pod-review.ts";
import { benchPolicy } from "../fixtures/policy.ts";
import type { BenchRegistry } from "../fixtures/registry.ts";
import type { BurstSummary } from "../load/burst.ts";
import type { ClosedLoopSummary } from "../load/closed-loop.ts";
import type { OpenLoopSummary } from "../load/open-loop.ts";
import type { BenchContext } from "../lib/context.ts";
import { burst, closedLoop, openLoop } from "../lib/load.ts";
import { count, ms, type GroupResult } from "../lib/report.ts";
import { startDigestpin, type Target } from "../lib/servers.ts";
import { EXPECT_PATCH } from "./warm.ts";

export interface ColdOptions {
  /** Reviews of the unique-tags run, each with three tags never asked before. */
  readonly uniqueReviews: number;
  readonly connections: number;
  /** Concurrent reviews of one new tag. */
  readonly burst: number;
  /** The 95 % cached / 5 % new mix: its fixed rate and length, and its closed-loop length. */
  readonly mixRate: number;
  readonly mixSeconds: number;
  readonly mixMaxReviews: number;
}

export const COLD_DEFAULTS: ColdOptions = {
  uniqueReviews: 1500,
  connections: 16,
  burst: 1000,
  mixRate: 1000,
  mixSeconds: 10,
  mixMaxReviews: 30_000,
};

const NEW_EVERY = 20; // 1 in 20 reviews is new: 95 % cached, 5 % new

/** Tags for `reviews` reviews of three new images each, and the bodies, one JSON per line. */
export class TagPlan {
  readonly #registry: BenchRegistry;
  readonly #tags: string[] = [];
  #next = 0;

  constructor(registry: BenchRegistry) {
    this.#registry = registry;
  }

  /** Every tag handed out so far (to push and pin). */
  get tags(): readonly string[] {
    return this.#tags;
  }

  /** A review whose three images are tags nobody asked for yet. */
  newReview(prefix: string): string {
    const images = ["a", "b", "c"].map((part) => {
      const tag = `${prefix}-${this.#next}${part}`;
      this.#tags.push(tag);
      return `${this.#registry.host}/${this.#registry.cold.repository}:${tag}`;
    }) as [string, string, string];
    const uid = `00000000-0000-4000-8000-${String(this.#next++).padStart(12, "0")}`;
    return JSON.stringify(podReview({ uid, namespace: "shop", images }));
  }

  /** `reviews` new reviews in a file, one per line. */
  async file(dir: string, name: string, prefix: string, reviews: number): Promise<string> {
    const lines = Array.from({ length: reviews }, () => this.newReview(prefix));
    const path = join(dir, name);
    await writeFile(path, lines.join("\n") + "\n");
    return path;
  }

  /** The pins for every tag handed out, plus `extra`. */
  pins(extra: readonly (readonly [string, string])[]): (readonly [string, string])[] {
    const { host, cold } = this.#registry;
    return [
      ...extra,
      ...this.#tags.map((tag) => [`${host}/${cold.repository}:${tag}`, cold.digest] as const),
    ];
  }
}

/** The warm pod's three pins, as policy entries. */
export function warmPins(registry: BenchRegistry): (readonly [string, string])[] {
  return registry.warm.map(
    (image) => [`${registry.host}/${image.repository}:${image.tag}`, image.digest] as const,
  );
}

/** The review of one new tag (first container) next to the two cached warm images. */
export function burstReview(registry: BenchRegistry, tag: string): string {
  const [, proxy, shipper] = registry.warm;
  const image = `${registry.host}/${registry.cold.repository}:${tag}`;
  return JSON.stringify(
    podReview({
      uid: "00000000-0000-4000-8000-b00000000001",
      namespace: "shop",
      images: [image, proxy.ref, shipper.ref],
    }),
  );
}

export interface ColdFigures {
  readonly unique: ClosedLoopSummary;
  readonly burst: BurstSummary & { readonly registryRequests: number };
}

/** The unique-tags run and the burst against one target (digestpin or the peer). */
export async function coldRuns(
  ctx: BenchContext,
  registry: BenchRegistry,
  target: Target,
  files: { uniqueFile: string; burstTag: string; warmFile: string; burstFile: string },
  options: ColdOptions,
): Promise<ColdFigures> {
  ctx.log(`cold: ${target.name}, ${options.uniqueReviews} reviews of new tags`);
  const unique = await closedLoop(
    {
      url: target.url,
      connections: options.connections,
      durationS: 0,
      plan: { kind: "sequence", bodiesFile: files.uniqueFile },
      expect: EXPECT_PATCH,
    },
    ctx.dir,
  );
  ctx.log(`cold: ${target.name}, ${options.burst} concurrent reviews of one new tag`);
  const burstResult = await burst(
    {
      url: target.url,
      ca: ctx.caPem,
      concurrency: options.burst,
      warmBodyFile: files.warmFile,
      burstBodyFile: files.burstFile,
      expect: EXPECT_PATCH,
    },
    ctx.dir,
  );
  const registryRequests = await registry.manifestRequests(
    registry.cold.repository,
    files.burstTag,
  );
  return { unique, burst: { ...burstResult, registryRequests } };
}

/**
 * Group 2: the cold path. Every registry answer crosses toxiproxy with 20 ms added: reviews of
 * tags never asked before, 1,000 concurrent reviews of one new tag (how many manifest requests
 * reach the registry), and a mix of 95 % cached and 5 % new reviews.
 */
export async function coldGroup(
  ctx: BenchContext,
  registry: BenchRegistry,
  options: ColdOptions = COLD_DEFAULTS,
): Promise<GroupResult & { figures: ColdFigures }> {
  const plan = new TagPlan(registry);
  const uniqueFile = await plan.file(ctx.dir, "cold-unique.jsonl", "u", options.uniqueReviews);
  const mixFixedFile = await plan.file(
    ctx.dir,
    "cold-mix-fixed.jsonl",
    "mf",
    Math.ceil((options.mixRate * options.mixSeconds) / NEW_EVERY) + 1,
  );
  const mixMaxFile = await plan.file(
    ctx.dir,
    "cold-mix-max.jsonl",
    "mm",
    Math.ceil(options.mixMaxReviews / NEW_EVERY),
  );
  const burstTag = "burst-digestpin";
  ctx.log(`cold: pushing ${plan.tags.length + 1} tags`);
  await registry.tag([...plan.tags, burstTag]);
  const policyFile = await ctx.file(
    "cold-policy.yaml",
    benchPolicy({
      registryHost: registry.host,
      caPem: registry.registry.caPem,
      pins: [
        ...plan.pins(warmPins(registry)),
        [`${registry.host}/${registry.cold.repository}:${burstTag}`, registry.cold.digest],
      ],
    }),
  );
  const digestpin = await startDigestpin({
    dir: ctx.dir,
    serving: ctx.serving,
    policy: { file: policyFile },
    name: "digestpin-cold",
  });
  ctx.teardown(() => digestpin.child.stop());
  const warmBody = JSON.stringify(
    podReview({
      uid: "00000000-0000-4000-8000-a00000000001",
      namespace: "shop",
      images: registry.warm.map((image) => image.ref) as [string, string, string],
    }),
  );
  const warmFile = await ctx.file("cold-warm.json", warmBody);
  const first = await ctx.post(digestpin.url, warmBody);
  if (!first.text.includes(EXPECT_PATCH)) throw new Error(`cold: unexpected answer ${first.text}`);

  const figures = await coldRuns(
    ctx,
    registry,
    digestpin,
    {
      uniqueFile,
      burstTag,
      warmFile,
      burstFile: await ctx.file("cold-burst.json", burstReview(registry, burstTag)),
    },
    options,
  );
  ctx.log(`cold: digestpin, 95 % cached / 5 % new at ${options.mixRate} req/s`);
  const mixFixed: OpenLoopSummary = await openLoop(
    {
      url: digestpin.url,
      ca: ctx.caPem,
      rate: options.mixRate,
      durationMs: options.mixSeconds * 1000,
      maxConnections: 64,
      plan: { kind: "mix", bodyFile: warmFile, bodiesFile: mixFixedFile, newEvery: NEW_EVERY },
      expect: EXPECT_PATCH,
    },
    ctx.dir,
  );
  ctx.log(`cold: digestpin, 95 % cached / 5 % new, maximum throughput`);
  const mixMax = await closedLoop(
    {
      url: digestpin.url,
      connections: 32,
      durationS: 0,
      plan: { kind: "mix", bodyFile: warmFile, bodiesFile: mixMaxFile, newEvery: NEW_EVERY },
      expect: EXPECT_PATCH,
    },
    ctx.dir,
  );
  await digestpin.child.stop();

  const { unique, burst: b } = figures;
  const failures =
    unique.errors +
    unique.non2xx +
    unique.unexpected +
    b.errors +
    b.unexpected +
    mixFixed.errors +
    mixFixed.unexpected +
    mixMax.errors +
    mixMax.non2xx +
    mixMax.unexpected;
  return {
    figures,
    tables: [
      {
        title: "2. Cold path: registry behind toxiproxy, +20 ms on every answer",
        columns: ["run", "reviews", "req/s", "p50 ms", "p99 ms", "registry manifest requests"],
        rows: [
          [
            `3 new tags per review (${options.connections} connections)`,
            count(unique.total),
            count(unique.requestsPerSecond),
            ms(unique.latencyMs.p50),
            ms(unique.latencyMs.p99),
            count(unique.total * 3),
          ],
          [
            `${count(options.burst)} concurrent reviews of 1 new tag`,
            count(b.concurrency),
            "–",
            ms(b.latencyMs.p50),
            ms(b.latencyMs.p99),
            `${count(b.registryRequests)} (for that tag)`,
          ],
          [
            `95 % cached / 5 % new at ${count(options.mixRate)} req/s`,
            count(mixFixed.sent),
            count(mixFixed.achievedRate),
            ms(mixFixed.latencyMs.p50),
            ms(mixFixed.latencyMs.p99),
            "–",
          ],
          [
            "95 % cached / 5 % new, maximum (32 connections)",
            count(mixMax.total),
            count(mixMax.requestsPerSecond),
            ms(mixMax.latencyMs.p50),
            ms(mixMax.latencyMs.p99),
            "–",
          ],
        ],
        notes: [
          "digestpin from dist/, policy file with a pin for every tag; the three images of a new review are looked up concurrently over kept-alive connections. " +
            "p50/p99 of closed-loop runs come from autocannon (whole ms); the burst's from its own process, from the moment all reviews were sent (connections opened and warmed first). " +
            `Registry manifest requests are counted in the registry's access log. Failed or unexpected answers in this group: ${failures}.`,
        ],
      },
    ],
    checks: [
      {
        target: `${count(options.burst)} concurrent identical cold reviews → exactly 1 registry manifest request`,
        measured: `${count(b.registryRequests)} (${b.ok} of ${b.concurrency} rewritten, ${b.distinctAnswers} distinct answer)`,
        met: b.registryRequests === 1 && b.ok === b.concurrency,
      },
    ],
  };
}
