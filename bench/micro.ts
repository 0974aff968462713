/**
 * What one warm review costs inside digestpin, without the network: the JSON parse of the
 * body, answerReview (find images, decide, patch, audit, metrics, the log line), and the
 * JSON.stringify of the answer, each timed over many iterations in this process. The registry
 * is an undici MockAgent behind the real Resolver, so every lookup after the first is a cache
 * hit, as on the warm path. For finding where the time goes between full HTTP runs. Each line
 * gives wall-clock µs and the process's CPU µs per iteration: on a busy machine the CPU figure
 * is the one to compare (wall time then counts the time other processes had the cores).
 *
 *   node --import tsx bench/micro.ts [--iterations 20000]
 */
import { parseArgs } from "node:util";
import { pino } from "pino";
import { MockAgent } from "undici";
import { handleReview, parseAdmissionReview } from "../src/admission/index.ts";
import { answerReview, type EndpointDeps } from "../src/webhook/review-answer.ts";
import { createLogger, silentLogger } from "../src/observability/logger.ts";
import { Metrics } from "../src/observability/metrics.ts";
import { decideWith, policyFromText, type Policy } from "../src/policy/index.ts";
import { Resolver } from "../src/registry/resolver.ts";
import { podReview } from "./fixtures/pod-review.ts";
import { benchPolicy } from "./fixtures/policy.ts";

const { values } = parseArgs({
  options: { iterations: { type: "string" }, only: { type: "string" } },
});
const iterations = Number(values.iterations ?? 20_000);
/** `--only TEXT`: run only the measurements whose name contains TEXT (e.g. for --cpu-prof). */
const only = values.only;

const HOST = "registry.bench.example:5000";
const IMAGES = [
  `${HOST}/shop/web:1.4.2`,
  `${HOST}/infra/envoy:v1.31.2`,
  `${HOST}/infra/fluent-bit:3.1.9`,
] as const;
const DIGEST = `sha256:${"ab".repeat(32)}`;

function mockRegistry(): MockAgent {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const pool = agent.get(`https://${HOST}`);
  pool
    .intercept({ path: /\/v2\/.*\/manifests\/.*/, method: "HEAD" })
    .reply(200, "", {
      headers: {
        "docker-content-digest": DIGEST,
        "content-type": "application/vnd.oci.image.index.v1+json",
        "content-length": "1024",
      },
    })
    .persist();
  return agent;
}

function deps(policy: Policy, logger: EndpointDeps["logger"]): EndpointDeps {
  const metrics = new Metrics();
  const resolver = new Resolver({
    registries: policy.settings.registries ?? undefined,
    cacheTtlMs: 3_600_000,
    dispatcherFactory: () => mockRegistry(),
    // As PolicyResolver: cache lookups counted by result, registry requests when one is made.
    report: {
      cacheLookup: (result) => {
        metrics.cacheLookups.labels(result).inc();
      },
      registryAsked: (_registry, outcome) => {
        metrics.registryRequests.labels(HOST, outcome).inc();
      },
    },
  });
  return {
    policy: () => policy,
    // As the webhook: the cached answer and the credentials at hand, not as promises.
    resolve: (reference, options) => resolver.resolveNow(reference, options),
    keychainFor: () => () => undefined,
    recordPin: () => Promise.reject(new Error("no trust-on-first-use here")),
    mutateTemplates: false,
    budgetMs: 8500,
    now: Date.now,
    metrics,
    logger,
  };
}

async function time(name: string, fn: () => unknown): Promise<void> {
  if (only !== undefined && !name.includes(only)) return;
  for (let i = 0; i < Math.min(2000, iterations / 5); i++) await fn();
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < iterations; i++) await fn();
  const { user, system } = process.cpuUsage(cpu);
  const us = ((performance.now() - started) * 1000) / iterations;
  const cpuUs = (user + system) / iterations;
  console.log(`${us.toFixed(2).padStart(8)} µs ${cpuUs.toFixed(2).padStart(8)} µs cpu  ${name}`);
}

const policy = policyFromText(
  benchPolicy({
    registryHost: HOST,
    caPem: "",
    pins: IMAGES.map((image) => [image, DIGEST]),
    cacheTTL: "1h",
  }).replace(/ {4}ca: \|\n/, ""),
  "bench",
);
const body = JSON.stringify(podReview({ uid: "0b6f7c2e", namespace: "shop", images: [...IMAGES] }));
const parsed: unknown = JSON.parse(body);
// Synchronous writes, as pino's to a container's stdout (a pipe or a file) are.
const devNull = pino.destination({
  dest: "/dev/null",
  sync: true,
}) as unknown as NodeJS.WritableStream;
const logged = deps(policy, createLogger({ destination: devNull }));
const silent = deps(policy, silentLogger());
const answer = await answerReview("mutate", parsed, logged);
if (!JSON.stringify(answer.body).includes('"patchType":"JSONPatch"')) throw new Error("no patch");
const context = { namespace: "shop", dryRun: false };

console.log(
  `${iterations} iterations; body ${body.length} bytes, answer ${JSON.stringify(answer.body).length} bytes`,
);
await time("JSON.parse(body)", () => JSON.parse(body));
await time("answerReview, logging to /dev/null (sync, as stdout)", () =>
  answerReview("mutate", JSON.parse(body), logged),
);
await time("answerReview, silent logger", () => answerReview("mutate", JSON.parse(body), silent));
// Bodies parsed beforehand (fresh objects, used in turn): the handler alone, without the parse,
// the metrics and the log line: decisions and the response's patch, annotations and warnings.
const bodies = Array.from({ length: 256 }, () => JSON.parse(body) as unknown);
let turn = 0;
await time("handleReview (decisions and response parts only)", () => {
  const review = parseAdmissionReview(bodies[turn++ % bodies.length]);
  if (!review.ok) throw new Error(review.error);
  return handleReview("mutate", review.request, silent);
});
await time("decideWith × 3 (cached registry answer)", () =>
  IMAGES.map((image) => decideWith(image, context, policy, () => ({ digest: DIGEST }))),
);
await time("JSON.stringify(answer)", () => JSON.stringify(answer.body));
