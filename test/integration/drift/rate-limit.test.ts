import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import test, { type ExecutionContext } from "ava";
import { stringify } from "yaml";
import { DriftScanner, ReportStore, type ScanRegistry } from "../../../src/drift/index.ts";
import { Metrics, silentLogger } from "../../../src/observability/index.ts";
import { policyFromText, type Policy } from "../../../src/policy/index.ts";
import { Resolver, type RegistryConfig } from "../../../src/registry/index.ts";
import { sharedControlPlane } from "../../harness/kube-shared.ts";
import { waitFor } from "../../harness/wait.ts";

// The scan against a registry that states its rate limit as Docker Hub does
// (`ratelimit-remaining: 9;w=4`): a node:http server on 127.0.0.1 answering manifest HEADs with
// a rolling window it really keeps. The scan (real resolver, API server, Lease, report) never
// takes the registry below the reserve it leaves admission, and 0 remaining defers the tags.

const controlPlane = sharedControlPlane(test, { controllerManager: false });

const PINNED = `sha256:${"a".repeat(64)}`;
const MOVED = `sha256:${"b".repeat(64)}`;

interface FakeHub {
  readonly host: string;
  /** Each HEAD: when, the tag, and the remaining count the answer stated. */
  readonly heads: { at: number; tag: string; remaining: number }[];
}

/** A registry answering HEAD /v2/rl/app/manifests/TAG; `t03` moved. A rolling window of `windowS`. */
async function fakeHub(
  t: ExecutionContext,
  options: { limit: number; windowS: number; exhausted?: boolean; tooMany?: boolean },
): Promise<FakeHub> {
  const heads: FakeHub["heads"] = [];
  const server: Server = createServer((request, response) => {
    const match = /^\/v2\/rl\/app\/manifests\/([\w.-]+)$/.exec(request.url ?? "");
    if (request.method !== "HEAD" || match === null) {
      response.writeHead(404).end();
      return;
    }
    const now = Date.now();
    const inWindow = heads.filter((head) => head.at > now - options.windowS * 1000).length + 1;
    const remaining = options.exhausted === true ? 0 : Math.max(0, options.limit - inWindow);
    const tag = match[1] ?? "";
    heads.push({ at: now, tag, remaining });
    if (options.tooMany === true) {
      // Docker Hub's 429: the limit headers, no Retry-After.
      response
        .writeHead(429, {
          "content-type": "application/json",
          "ratelimit-limit": `${options.limit};w=${options.windowS}`,
          "ratelimit-remaining": `0;w=${options.windowS}`,
        })
        .end('{"errors":[{"code":"TOOMANYREQUESTS","message":"pull rate limit"}]}');
      return;
    }
    response
      .writeHead(200, {
        "content-type": "application/vnd.oci.image.manifest.v1+json",
        "content-length": "512",
        "docker-content-digest": tag === "t03" ? MOVED : PINNED,
        "ratelimit-limit": `${options.limit};w=${options.windowS}`,
        "ratelimit-remaining": `${remaining};w=${options.windowS}`,
        "docker-ratelimit-source": "127.0.0.1",
      })
      .end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      ),
  );
  const { port } = server.address() as AddressInfo;
  return { host: `127.0.0.1:${port}`, heads };
}

/** A scanner of `count` pins (t00…) of the fake registry, driftScan as given. */
async function scanner(t: ExecutionContext, hub: FakeHub, count: number, interval: string) {
  const namespace = await controlPlane().namespace(t, "rl");
  const registries: RegistryConfig[] = [
    { host: hub.host, insecure: true, allowPrivateAddresses: true },
  ];
  const pins = Object.fromEntries(
    Array.from({ length: count }, (_, i) => [
      `${hub.host}/rl/app:t${String(i).padStart(2, "0")}`,
      PINNED,
    ]),
  );
  const policy: Policy = policyFromText(
    stringify({
      apiVersion: "digestpin.dev/v1alpha1",
      kind: "Policy",
      registries,
      driftScan: { interval, concurrency: 2 },
      pins,
    }),
    "policy.yaml",
  );
  const resolver = new Resolver({ registries, cacheTtlMs: 0 });
  t.teardown(() => resolver.close());
  const registry: ScanRegistry = {
    resolve: (reference, deadline) => resolver.resolve(reference, { deadline }),
    tree: () => Promise.reject(new Error("no manifests here")),
  };
  const metrics = new Metrics();
  const scan = new DriftScanner({
    kubeConfig: controlPlane().kubeConfig,
    namespace,
    identity: "rl-scanner",
    pins: () => policy.pins,
    settings: () => policy.settings.driftScan,
    registry,
    metrics,
    logger: silentLogger(),
    retryPeriodMs: 200,
  });
  const store = new ReportStore(controlPlane().kubeConfig, namespace);
  const scans = async () =>
    Number(
      /_count (\d+)/.exec(
        await metrics.registry.getSingleMetricAsString("digestpin_drift_scan_duration_seconds"),
      )?.[1] ?? 0,
    );
  const rateLimited = async () =>
    (await metrics.driftScanErrors.get()).values.find((v) => v.labels.reason === "rate-limited")
      ?.value ?? 0;
  return { scan, store, scans, rateLimited, metrics };
}

test("a rolling window of 10 per 4 s: the scan never takes the registry below its reserve of 2, and slows down", async (t) => {
  const hub = await fakeHub(t, { limit: 10, windowS: 4 });
  const { scan, scans, rateLimited } = await scanner(t, hub, 12, "2s");
  scan.start();
  t.teardown(() => scan.stop());
  await waitFor("three scans", async () => ((await scans()) >= 3 ? true : undefined), 30_000, 50);
  await scan.stop();
  const lowest = Math.min(...hub.heads.map((head) => head.remaining));
  // Any 4 s: at most 10 − 2 requests from the scan.
  const busiest = Math.max(
    ...hub.heads.map(
      (head) => hub.heads.filter((h) => h.at >= head.at && h.at < head.at + 4000).length,
    ),
  );
  t.log(
    `${hub.heads.length} HEADs in ${await scans()} scans of 12 pins; lowest remaining ${lowest}; at most ${busiest} in 4 s; rate-limited ${await rateLimited()}`,
  );
  t.true(lowest >= 2, `remaining fell to ${lowest}`);
  t.true(busiest <= 8, `${busiest} requests in one window`);
  // Without the headers, 3 scans would be 36 requests: the scan slowed down and said so.
  t.true(hub.heads.length < 36);
  t.true((await rateLimited()) > 0);
});

test("0 remaining: like a 429 until the window passes; the tags are deferred (unreachable), never drift", async (t) => {
  const hub = await fakeHub(t, { limit: 100, windowS: 3600, exhausted: true });
  const { scan, store, scans, rateLimited, metrics } = await scanner(t, hub, 6, "1s");
  scan.start();
  t.teardown(() => scan.stop());
  await waitFor("two scans", async () => ((await scans()) >= 2 ? true : undefined), 30_000, 50);
  await scan.stop();
  const report = (await store.read())!;
  // The first request (nothing known yet) is answered: 0 left. Nothing more is asked, in this
  // scan or the next; t03 moved upstream but is never asked, so no drift is reported.
  t.deepEqual(
    hub.heads.map((head) => head.tag),
    ["t00"],
  );
  t.deepEqual(report.moved, []);
  t.is(report.unreachable.length, 6);
  for (const entry of report.unreachable)
    t.regex(
      entry.error,
      /^not asked: rate limit \(the registry said 0 of 100 requests left in its 3600 s window\); deferred until /,
    );
  t.is((await metrics.pinsMoved.get()).values[0]?.value ?? 0, 0);
  t.true((await rateLimited()) >= 6);
});

test("a 429 with rate-limit headers and no Retry-After: the registry is left alone for the window they state", async (t) => {
  const hub = await fakeHub(t, { limit: 100, windowS: 3, tooMany: true });
  const { scan, store, rateLimited, metrics } = await scanner(t, hub, 6, "1s");
  scan.start();
  t.teardown(() => scan.stop());
  // Requests come in bursts (the resolver's own retries of one 429 within its budget).
  const bursts = () =>
    hub.heads.reduce<{ first: number; last: number }[]>((all, head) => {
      const last = all.at(-1);
      if (last !== undefined && head.at - last.last < 1000) last.last = head.at;
      else all.push({ first: head.at, last: head.at });
      return all;
    }, []);
  await waitFor("three bursts", () => (bursts().length >= 3 ? true : undefined), 30_000, 50);
  await scan.stop();
  const seen = bursts();
  const gaps = seen.slice(1).map((burst, i) => burst.first - (seen[i]?.last ?? 0));
  t.log(`${hub.heads.length} HEADs in ${seen.length} bursts, gaps ${gaps.join(", ")} ms`);
  // Each pause lasts the stated 3 s window (not 60 s, not none).
  for (const gap of gaps) t.true(gap >= 2900 && gap < 6000, `${gap} ms between bursts`);
  // A 429 saying none remain is not retried: a request per pause (two when both queued ones
  // went out before the first 429 came back).
  t.true(hub.heads.length <= 2 * seen.length, `${hub.heads.length} requests`);
  const report = (await store.read())!;
  t.deepEqual(report.moved, []);
  t.is(report.unreachable.length, 6);
  t.true(
    report.unreachable.some((entry) =>
      entry.error.startsWith(
        "not asked: rate limit (the registry said 0 of 100 requests left in its 3 s window)",
      ),
    ),
  );
  t.is((await metrics.pinsMoved.get()).values[0]?.value ?? 0, 0);
  t.true((await rateLimited()) > 0);
});
