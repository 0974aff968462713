import { setTimeout as sleep } from "node:timers/promises";
import { Agent, request } from "undici";
import { KubernetesObjectApi, type KubernetesObject } from "@kubernetes/client-node";
import type { ControlPlane } from "../../test/harness/kube.ts";
import { sumSamples } from "../../test/harness/webhook.ts";
import { webhookSettings } from "../../test/helpers/webhook-settings.ts";
import { podObject } from "../fixtures/pod-review.ts";
import type { BenchRegistry } from "../fixtures/registry.ts";
import type { BenchContext } from "../lib/context.ts";
import { podCreates } from "../lib/load.ts";
import { startLimit, type Target } from "../lib/servers.ts";
import { count, ms, type Check, type GroupResult, type Table } from "../lib/report.ts";
import { median } from "../lib/stats.ts";
import { startWarmDigestpin } from "./warm.ts";
import type { PodCreatesSummary } from "../load/pod-creates.ts";

export interface ApiServerOptions {
  /** Measured requests per run, one after another on one keep-alive connection. */
  readonly count: number;
  /** Unmeasured requests before them. */
  readonly warmup: number;
  /** Every run is repeated this many times (which of without/with goes first alternates). */
  readonly rounds: number;
}

export const API_SERVER_DEFAULTS: ApiServerOptions = { count: 300, warmup: 20, rounds: 3 };

/** Added p99 allowed per request through the API server, warm cache. */
const TARGET_P99_MS = 10;
/** What issue 21 asks for. */
const ISSUE_P99_MS = 5;

type Operation = "create" | "dry-run";
type Mode = "without" | "with" | "limit";
const OPERATIONS: readonly Operation[] = ["create", "dry-run"];
const OPERATION_NAMES: Record<Operation, string> = {
  create: "Pod create",
  "dry-run": "Pod create, dryRun=All",
};

/** The namespaces: digestpin's configurations select `with`, the limit's `limit`. */
interface Namespaces {
  readonly with: string;
  readonly without: string;
  readonly limit: string;
}

/** A Pod as JSON (bench/fixtures/pod-review.ts builds it untyped). */
interface PodJson {
  readonly metadata: Record<string, unknown>;
  readonly [field: string]: unknown;
}

type Digestpin = Target & { readonly metricsUrl: string };

/** One run's latency and outcome counts. */
interface Run {
  readonly p50: number;
  readonly p99: number;
  readonly wrong: number;
  readonly failed: number;
  /** Where a request's added time went, as means per request (with digestpin only). */
  readonly split?: Split;
}

/** Means per request over a run: the API server's and digestpin's own clocks. */
interface Split {
  /** The mutating webhook call, as the API server times it (marshal, HTTPS, answer, patch). */
  readonly mutateMs: number;
  /** The validating webhook call, likewise. */
  readonly validateMs: number;
  /** digestpin's handling of the two reviews (digestpin_admission_review_duration_seconds). */
  readonly handledMs: number;
  /** TLS connections digestpin accepted during the run. */
  readonly connections: number;
}

/** Sums and counts of the clocks Split reads, at one moment. */
interface Clocks {
  readonly mutate: { sum: number; count: number };
  readonly validate: { sum: number; count: number };
  /** Seconds digestpin spent handling reviews, in all. */
  readonly handled: number;
  readonly connections: number;
}

const WEBHOOK_SECONDS = "apiserver_admission_webhook_admission_duration_seconds";
const REVIEW_SECONDS = "digestpin_admission_review_duration_seconds";

/** The API server's timing of digestpin's webhook calls, and digestpin's own, now. */
async function clocks(cluster: ControlPlane, digestpin: Digestpin): Promise<Clocks> {
  const [api, own] = await Promise.all([
    apiServerMetrics(cluster),
    fetch(`${digestpin.metricsUrl}/metrics`).then((response) => response.text()),
  ]);
  const webhook = (type: string) => ({
    sum: sumSamples(api, `${WEBHOOK_SECONDS}_sum`, { type }),
    count: sumSamples(api, `${WEBHOOK_SECONDS}_count`, { type }),
  });
  return {
    mutate: webhook("admit"),
    validate: webhook("validating"),
    handled: sumSamples(own, `${REVIEW_SECONDS}_sum`),
    connections: sumSamples(own, "digestpin_webhook_connections_total"),
  };
}

/** The API server's /metrics, read as its admin. */
async function apiServerMetrics(cluster: ControlPlane): Promise<string> {
  const dispatcher = new Agent({ connect: { ca: cluster.caPem } });
  try {
    const response = await request(`${cluster.url}/metrics`, {
      headers: { authorization: `Bearer ${cluster.token}` },
      dispatcher,
    });
    const text = await response.body.text();
    if (response.statusCode !== 200)
      throw new Error(`GET ${cluster.url}/metrics: ${response.statusCode}`);
    return text;
  } finally {
    await dispatcher.close();
  }
}

/** Means per request between two readings (`requests` requests in between). */
function splitOf(before: Clocks, after: Clocks, requests: number): Split {
  const mean = (key: "mutate" | "validate") => {
    const calls = after[key].count - before[key].count;
    return calls === 0 ? NaN : ((after[key].sum - before[key].sum) / calls) * 1000;
  };
  return {
    mutateMs: mean("mutate"),
    validateMs: mean("validate"),
    handledMs: ((after.handled - before.handled) / requests) * 1000, // 0 for the limit
    connections: after.connections - before.connections,
  };
}

/**
 * Group 5: through the API server. Pod creates and server-side dry-runs of the warm pod, each
 * measured in a namespace digestpin's webhook configurations select and in one they do not
 * (digestpin registered by URL all along, its cache warm); the difference is what digestpin adds
 * per request. Every Pod stored with digestpin carries digests, every other one none.
 */
export async function apiServerGroup(
  ctx: BenchContext,
  registry: BenchRegistry,
  cluster: ControlPlane,
  options: ApiServerOptions = API_SERVER_DEFAULTS,
): Promise<GroupResult> {
  const { digestpin } = await startWarmDigestpin(ctx, registry, { name: "digestpin-apiserver" });
  // The limit webhook answers what digestpin answered, without deciding anything.
  const limit = await startLimit(ctx.dir, ctx.serving, {
    replay: new URL(digestpin.url).origin,
    caFile: await ctx.file("apiserver-ca.pem", ctx.caPem),
  });
  ctx.teardown(() => limit.child.stop());
  const objects = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
  const namespaces = await benchNamespaces(ctx, cluster, objects);
  await register(ctx, objects, digestpin, namespaces.with, "digestpin-bench-apiserver");
  await register(ctx, objects, limit, namespaces.limit, "digestpin-bench-limit");
  const pod = warmPod(registry);
  const podFile = await ctx.file("apiserver-pod.json", JSON.stringify(pod));
  await untilCalled(ctx, objects, digestpin.metricsUrl, pod, namespaces.with);
  // The limit's first review of each path goes on to digestpin: both counters move once.
  await untilCalled(ctx, objects, digestpin.metricsUrl, pod, namespaces.limit);

  const runs = new Map<string, Run[]>();
  for (let round = 0; round < options.rounds; round++) {
    const order: Mode[] = ["without", "limit", "with"];
    const modes = [...order.slice(round % 3), ...order.slice(0, round % 3)];
    for (const operation of OPERATIONS) {
      for (const mode of modes) {
        const who = mode === "limit" ? "with the limit webhook" : `${mode} digestpin`;
        ctx.log(`apiserver: ${operation} ${who}, round ${round + 1}/${options.rounds}`);
        const run = await measure(ctx, cluster, digestpin, {
          namespace: namespaces[mode],
          podFile,
          operation,
          mode,
          prefix: `${operation}-${mode}-r${round}`,
          options,
        });
        const key = `${operation}/${mode}`;
        runs.set(key, [...(runs.get(key) ?? []), run]);
      }
    }
  }
  await digestpin.child.stop();
  return report(runs, options);
}

/** Two fresh namespaces, each with the `web` ServiceAccount the warm pod runs as. */
async function benchNamespaces(
  ctx: BenchContext,
  cluster: ControlPlane,
  objects: KubernetesObjectApi,
): Promise<Namespaces> {
  const names = {
    with: await cluster.namespace(ctx, "bench-pinned"),
    without: await cluster.namespace(ctx, "bench-plain"),
    limit: await cluster.namespace(ctx, "bench-limit"),
  };
  for (const namespace of [names.with, names.without, names.limit])
    await objects.create({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "web", namespace },
    });
  return names;
}

/**
 * Registers digestpin's configurations (the chart's, test/helpers/webhook-settings.ts), named
 * `name`, for `target` by URL, every webhook's namespaceSelector narrowed to `namespace`;
 * deleted on teardown.
 */
async function register(
  ctx: BenchContext,
  objects: KubernetesObjectApi,
  target: Target,
  namespace: string,
  name: string,
): Promise<void> {
  const settings = webhookSettings({
    namespace: "digestpin-bench",
    url: new URL(target.url).origin,
    caBundle: ctx.caPem,
    name,
  });
  const namespaceSelector = { matchLabels: { "kubernetes.io/metadata.name": namespace } };
  for (const configuration of [settings.mutating, settings.validating]) {
    const scoped = {
      ...configuration,
      webhooks: configuration.webhooks.map((webhook) => ({ ...webhook, namespaceSelector })),
    };
    await objects.create(scoped);
    ctx.teardown(async () => {
      await objects.delete(scoped as KubernetesObject).catch(() => undefined);
    });
  }
}

/**
 * The warm review's Pod (bench/fixtures/pod-review.ts) as a client sends it: without the
 * ReplicaSet owner reference (no such ReplicaSet; a garbage collector would delete the Pods).
 */
function warmPod(registry: BenchRegistry): PodJson {
  const images = registry.warm.map((image) => image.ref) as [string, string, string];
  const pod = podObject({ namespace: "default", images }) as PodJson;
  const metadata = { ...pod.metadata };
  delete metadata.ownerReferences;
  return { ...pod, metadata };
}

/** digestpin's reviews per endpoint so far (digestpin_admission_reviews_total). */
async function reviews(metricsUrl: string): Promise<{ mutate: number; validate: number }> {
  const response = await fetch(`${metricsUrl}/metrics`);
  if (!response.ok) throw new Error(`GET ${metricsUrl}/metrics: ${response.status}`);
  const text = await response.text();
  const total = (endpoint: string): number =>
    sumSamples(text, "digestpin_admission_reviews_total", { endpoint });
  return { mutate: total("mutate"), validate: total("validate") };
}

/**
 * Returns once the API server calls both /mutate and /validate (it reads new configurations
 * through an informer, a moment later): dry-run creates of the warm pod until both counters move
 * and the answer carries digests.
 */
async function untilCalled(
  ctx: BenchContext,
  objects: KubernetesObjectApi,
  metricsUrl: string,
  pod: PodJson,
  namespace: string,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (let probe = 0; ; probe++) {
    const before = await reviews(metricsUrl);
    const object: Record<string, unknown> = {
      ...pod,
      metadata: { ...pod.metadata, namespace, name: `probe-${probe}` },
    };
    // A webhook the API server cannot call yet (its informer, its connections) fails the
    // create: tried again until the deadline, the last failure said.
    let failure: string | undefined;
    const answer = (await objects.create(object, undefined, "All").catch((error: unknown) => {
      failure = failureOf(error);
      return {};
    })) as { spec?: { containers?: { image: string }[] } };
    const after = await reviews(metricsUrl);
    const pinned =
      failure === undefined &&
      (answer.spec?.containers ?? []).every((c) => c.image.includes("@sha256:"));
    if (after.mutate > before.mutate && after.validate > before.validate && pinned) return;
    if (Date.now() > deadline)
      throw new Error(
        `the API server never called the webhooks for ${namespace}${failure === undefined ? "" : ` (last: ${failure})`}`,
      );
    ctx.log(
      `apiserver: waiting for the API server to call the webhooks${failure === undefined ? "" : ` (${failure})`}`,
    );
    await sleep(200);
  }
}

/** An API error's message (the Status in its body when there is one), on one line. */
function failureOf(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  if (typeof body === "string")
    try {
      const status = JSON.parse(body) as { message?: unknown };
      if (typeof status.message === "string") return status.message;
    } catch {
      // not JSON: the error's own message below
    }
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? message;
}

interface RunSpec {
  readonly namespace: string;
  readonly podFile: string;
  readonly operation: Operation;
  readonly mode: Mode;
  readonly prefix: string;
  readonly options: ApiServerOptions;
}

/**
 * One run of bench/load/pod-creates.ts. digestpin's review counters must move by one review
 * per request and endpoint with digestpin (more on reinvocation), and not at all without.
 */
async function measure(
  ctx: BenchContext,
  cluster: ControlPlane,
  digestpin: Digestpin,
  spec: RunSpec,
): Promise<Run> {
  const { metricsUrl } = digestpin;
  const before = await reviews(metricsUrl);
  const clocksBefore = spec.mode === "without" ? undefined : await clocks(cluster, digestpin);
  const summary: PodCreatesSummary = await podCreates(
    {
      apiServer: cluster.url,
      token: cluster.token,
      ca: cluster.caPem,
      namespace: spec.namespace,
      podFile: spec.podFile,
      dryRun: spec.operation === "dry-run",
      count: spec.options.count,
      warmup: spec.options.warmup,
      expectDigests: spec.mode !== "without",
      prefix: spec.prefix,
    },
    ctx.dir,
  );
  if (summary.wrong > 0 || summary.failed > 0)
    throw new Error(
      `apiserver ${spec.prefix}: ${summary.wrong} wrong, ${summary.failed} failed; first: ${summary.firstProblem ?? "?"}`,
    );
  const after = await reviews(metricsUrl);
  // digestpin is called once per request and endpoint with it, never otherwise (the limit
  // answers alone once it has digestpin's answers).
  const requests = spec.options.warmup + spec.options.count;
  const expected = spec.mode === "with" ? requests : 0;
  for (const endpoint of ["mutate", "validate"] as const) {
    const called = after[endpoint] - before[endpoint];
    if (spec.mode === "with" ? called < expected : called !== 0)
      throw new Error(
        `apiserver ${spec.prefix}: ${called} reviews at /${endpoint} for ${expected}`,
      );
  }
  return {
    p50: summary.latencyMs.p50,
    p99: summary.latencyMs.p99,
    wrong: summary.wrong,
    failed: summary.failed,
    ...(clocksBefore !== undefined && {
      split: splitOf(clocksBefore, await clocks(cluster, digestpin), requests),
    }),
  };
}

function report(runs: ReadonlyMap<string, readonly Run[]>, options: ApiServerOptions): GroupResult {
  const of = (operation: Operation, mode: Mode): readonly Run[] =>
    runs.get(`${operation}/${mode}`) ?? [];
  const rows: string[][] = [];
  const checks: Check[] = [];
  for (const operation of OPERATIONS) {
    const without = of(operation, "without");
    // Added: the median of the rounds' differences, each measured in the same round.
    const added = (mode: Mode, q: "p50" | "p99"): number =>
      median(of(operation, mode).map((run, i) => run[q] - (without[i]?.[q] ?? NaN)));
    const pair = (mode: Mode) => {
      const list = of(operation, mode);
      return `${ms(median(list.map((r) => r.p50)))} / ${ms(median(list.map((r) => r.p99)))}`;
    };
    const all = [...without, ...of(operation, "limit"), ...of(operation, "with")];
    const wrong = all.reduce((sum, run) => sum + run.wrong, 0);
    const failed = all.reduce((sum, run) => sum + run.failed, 0);
    const name = OPERATION_NAMES[operation];
    rows.push([
      name,
      pair("without"),
      pair("limit"),
      pair("with"),
      `${ms(added("limit", "p50"))} / ${ms(added("limit", "p99"))}`,
      `${ms(added("with", "p50"))} / ${ms(added("with", "p99"))}`,
      `${count(wrong)} / ${count(failed)}`,
    ]);
    const p99 = added("with", "p99");
    const what = operation === "create" ? "Pod creates" : "Pod dry-run creates";
    checks.push(
      {
        target: `added API-server latency p99 ≤ ${TARGET_P99_MS} ms (warm cache), ${what}`,
        measured: `${ms(p99)} ms`,
        met: p99 <= TARGET_P99_MS,
      },
      {
        target: `added API-server latency p99 ≤ ${ISSUE_P99_MS} ms (warm cache), ${what} (issue 21)`,
        measured: `${ms(p99)} ms (the limit webhook: ${ms(added("limit", "p99"))} ms)`,
        met: p99 <= ISSUE_P99_MS,
      },
    );
  }
  return { tables: [table(rows, options), splitTable(runs)], checks };
}

/** Where the added time goes: each webhook call as the API server times it, digestpin's part. */
function splitTable(runs: ReadonlyMap<string, readonly Run[]>): Table {
  const cases = OPERATIONS.flatMap((operation) =>
    (["limit", "with"] as const).map((mode) => ({ operation, mode })),
  );
  const rows = cases.map(({ operation, mode }) => {
    const splits = (runs.get(`${operation}/${mode}`) ?? []).flatMap((run) =>
      run.split === undefined ? [] : [run.split],
    );
    const of = (key: keyof Split) => median(splits.map((split) => split[key]));
    const calls = of("mutateMs") + of("validateMs");
    return [
      `${OPERATION_NAMES[operation]}, ${mode === "with" ? "digestpin" : "the limit webhook"}`,
      ms(of("mutateMs")),
      ms(of("validateMs")),
      mode === "with" ? ms(of("handledMs")) : "–",
      ms(calls - (mode === "with" ? of("handledMs") : 0)),
      count(Math.max(...splits.map((split) => split.connections))),
    ];
  });
  return {
    title: "5b. Through the API server: where the added time goes (means per request)",
    columns: [
      "operation",
      "mutating call ms",
      "validating call ms",
      "of which digestpin's handling ms",
      "the rest of the calls ms",
      "connections opened per run (most)",
    ],
    rows,
    notes: [
      "Call: the API server's own clock of each webhook call (apiserver_admission_webhook_admission_duration_seconds, " +
        "sum ÷ count over the run: the AdmissionReview marshalled, the HTTPS round trip, the answer decoded and, for " +
        "the mutating call, the patch applied). digestpin's handling: digestpin_admission_review_duration_seconds " +
        "(from the parsed review to the encoded answer) of both reviews, per request. The rest: the calls less " +
        "digestpin's handling — the API server's side, TLS and HTTP on both. Connections: TLS connections digestpin " +
        "accepted during a run (digestpin_webhook_connections_total); 0 means every call came over kept-alive ones. " +
        "Medians of the rounds.",
    ],
  };
}

function table(rows: readonly (readonly string[])[], options: ApiServerOptions): Table {
  return {
    title:
      "5. Through the API server: Pod creates of the warm 3-container pod, digestpin's cache warm",
    columns: [
      "operation",
      "no webhook p50 / p99 ms",
      "limit webhook p50 / p99 ms",
      "digestpin p50 / p99 ms",
      "the limit added p50 / p99 ms",
      "digestpin added p50 / p99 ms",
      "wrong / failed",
    ],
    rows,
    notes: [
      `bench/load/pod-creates.ts: ${count(options.count)} POSTs of the Pod to the testbed kube-apiserver ` +
        `(after ${options.warmup} unmeasured), one after another on one keep-alive HTTPS connection, ` +
        `latency until the whole answer is read. Medians of ${options.rounds} rounds, the three taking turns ` +
        `going first; added is the median of the rounds' differences (with a webhook − without).`,
      "digestpin (dist/, policy file pinning the three images, cache TTL 1 h) is registered by URL with the " +
        "chart's MutatingWebhookConfiguration and ValidatingWebhookConfiguration " +
        "(charts/digestpin/files/webhooks.yaml), their namespaceSelector narrowed to one bench namespace. " +
        "with: Pods created in that namespace (/mutate, then /validate per request); without: the same Pods " +
        "in a second namespace outside the selector, configurations registered all along. The limit webhook: " +
        "the same configurations for a third namespace, served by bench/servers/limit-server.ts (node:https, " +
        "the same TLS and Node flags): it JSON.parses each review and answers digestpin's own answer (the first " +
        "review of each path sent on to digestpin, its answer kept) with the review's uid. What it adds is what " +
        "any webhook answering that patch adds on this machine; digestpin's decisions cost the difference.",
      "Every Pod stored (or returned by the dry-run) with digestpin has all three images with @sha256, without " +
        "none; digestpin's review counters moved by one per request and endpoint with, not at all without. " +
        "The control plane has no scheduler or kubelet: the Pods are only stored (etcd on the same machine).",
    ],
  };
}
