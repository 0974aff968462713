import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { reportRow } from "../helpers/reliability.ts";
import { createCrane, startRegistry, startToxiproxy, tempDir } from "../harness/testbed.ts";
import { runDriver, sampleRss, soakCa, startServe, until } from "./harness.ts";
import { outcomesOf, type ImageOption } from "./outcomes.ts";
import { podReview, type ReviewCase } from "./reviews.ts";

// Load with an outage: 20,000 reviews at 500/s against `digestpin serve` (its own process)
// while toxiproxy cuts the registry and then slows it past the review budget. Every answer is
// checked against what the policy allows; the driver runs in its own process too.

const RATE = Number(process.env.SOAK_RATE ?? 500);
const TOTAL = Number(process.env.SOAK_TOTAL ?? 20_000);
const TIMEOUT_SECONDS = 3; // the webhook's timeoutSeconds; the review budget is then 1.5 s

test("20,000 reviews at 500/s while the registry is cut and restored: no 5xx, no wrong admission", async (t) => {
  const dir = await tempDir(t, "soak-outage");
  const registry = await startRegistry(t, { auth: "none" });
  const crane = await createCrane(t, registry);
  const [api, web, worker, drifted] = await Promise.all(
    ["api:1", "web:1", "worker:2", "drifted:1"].map((tag) =>
      crane.pushRandomImage(registry.ref(`soak/${tag}`)),
    ),
  );
  await crane.repush(registry.ref("soak/drifted:1")); // the tag moves: drift
  await crane.pushRandomImage(registry.ref("soak/unpinned:1"));
  const toxiproxy = await startToxiproxy(t);
  const proxy = await toxiproxy.proxy("registry", registry.host);
  const host = proxy.host;
  const pins = {
    api: api!.digest,
    web: web!.digest,
    worker: worker!.digest,
    drifted: drifted!.digest,
  };
  const policyFile = join(dir, "policy.yaml");
  await writeFile(
    policyFile,
    [
      "apiVersion: digestpin.dev/v1alpha1",
      "kind: Policy",
      "mode: enforce",
      "unpinned: deny",
      "drift: deny",
      "registryUnavailable: use-pin",
      "cacheTTL: 1s",
      `registries: ${JSON.stringify([{ host, ca: registry.caPem, allowPrivateAddresses: true }])}`,
      "exempt:",
      "  namespaces: [kube-system]",
      "pins:",
      `  ${host}/soak/api:1: ${pins.api}`,
      `  ${host}/soak/web:1: ${pins.web}`,
      `  ${host}/soak/worker:2: ${pins.worker}`,
      `  ${host}/soak/drifted:1: ${pins.drifted}`,
      "",
    ].join("\n"),
  );
  const ca = soakCa();
  const pair = ca.issue();
  await writeFile(join(dir, "tls.crt"), pair.cert);
  await writeFile(join(dir, "tls.key"), pair.key, { mode: 0o600 });
  const serve = await startServe(
    t,
    "outage",
    [
      ...["--policy", policyFile, "--tls-cert-file", join(dir, "tls.crt")],
      ...["--tls-key-file", join(dir, "tls.key"), "--timeout-seconds", String(TIMEOUT_SECONDS)],
      ...["--drain-delay", "0"],
    ],
    { dir },
  );

  const image = (name: string) => `${host}/soak/${name}`;
  // A pinned tag: at its pin, whether the registry confirmed it or could not be asked.
  const pinned = (tag: string, digest: string): ImageOption[] => [
    { decision: "mutate/pinned", image: `${image(tag)}@${digest}` },
    { decision: "mutate/registry-unavailable", image: `${image(tag)}@${digest}`, degraded: true },
  ];
  // The drifted tag: denied while the registry says it moved; at the OLD pin while it is down.
  const driftedTag: ImageOption[] = [
    { decision: "deny/drift", image: "" },
    {
      decision: "mutate/registry-unavailable",
      image: `${image("drifted:1")}@${pins.drifted}`,
      degraded: true,
    },
  ];
  const pod = (images: string[], namespace = "team") =>
    podReview(Object.fromEntries(images.map((img, i) => [`c${i}`, img])), namespace);
  const fixed = (decision: string, img: string): ImageOption[] => [{ decision, image: img }];
  const WRONG = `sha256:${"0".repeat(64)}`;
  const cases: ReviewCase[] = [
    {
      name: "pinned tag",
      path: "/mutate",
      review: pod([image("api:1")]),
      outcomes: outcomesOf([pinned("api:1", pins.api)]),
    },
    {
      name: "three pinned tags",
      path: "/mutate",
      review: pod([image("api:1"), image("web:1"), image("worker:2")]),
      outcomes: outcomesOf([
        pinned("api:1", pins.api),
        pinned("web:1", pins.web),
        pinned("worker:2", pins.worker),
      ]),
    },
    {
      name: "drifted tag",
      path: "/mutate",
      review: pod([image("drifted:1")]),
      outcomes: outcomesOf([driftedTag]),
    },
    {
      name: "pinned and drifted tags",
      path: "/mutate",
      review: pod([image("web:1"), image("drifted:1")]),
      outcomes: outcomesOf([pinned("web:1", pins.web), driftedTag]),
    },
    {
      name: "unpinned tag",
      path: "/mutate",
      review: pod([image("unpinned:1")]),
      outcomes: outcomesOf([fixed("deny/unpinned", "")]),
    },
    {
      name: "pinned digest, no tag",
      path: "/mutate",
      review: pod([`${image("api")}@${pins.api}`]),
      outcomes: outcomesOf([fixed("allow/digest-known", `${image("api")}@${pins.api}`)]),
    },
    {
      name: "tag with a digest that is not its pin",
      path: "/mutate",
      review: pod([`${image("api:1")}@${WRONG}`]),
      outcomes: outcomesOf([fixed("deny/digest-mismatch", "")]),
    },
    {
      name: "invalid reference",
      path: "/mutate",
      review: pod([`${host}/soak/API:1`]),
      outcomes: outcomesOf([fixed("deny/invalid-reference", "")]),
    },
    {
      name: "exempt namespace",
      path: "/mutate",
      review: pod([image("unpinned:1")], "kube-system"),
      outcomes: outcomesOf([fixed("allow/exempt-namespace", image("unpinned:1"))]),
    },
    {
      name: "validate: pinned digests",
      path: "/validate",
      review: pod([`${image("api:1")}@${pins.api}`, `${image("web:1")}@${pins.web}`]),
      outcomes: outcomesOf([
        fixed("allow/digest-pinned", `${image("api:1")}@${pins.api}`),
        fixed("allow/digest-pinned", `${image("web:1")}@${pins.web}`),
      ]),
    },
    {
      name: "validate: a tag",
      path: "/validate",
      review: pod([image("api:1")]),
      outcomes: outcomesOf([fixed("deny/not-digest-form", "")]),
    },
  ];

  const rss = sampleRss(serve.pid);
  const startAt = Date.now() + 3000;
  const seconds = (s: number) => startAt + s * 1000;
  const driven = runDriver(t, dir, "outage", {
    targets: [{ url: serve.url }],
    ca: ca.caPem,
    rate: RATE,
    total: TOTAL,
    startAt,
    cases,
    timeoutMs: TIMEOUT_SECONDS * 1000,
    retries: 1,
    maxInFlight: 4000,
  });
  const duration = TOTAL / RATE;
  const phases = {
    cut: 0.2 * duration,
    restored: 0.4 * duration,
    slowed: 0.55 * duration,
    healed: 0.72 * duration,
  };
  await until(seconds(phases.cut));
  await proxy.disable();
  await until(seconds(phases.restored));
  await proxy.enable();
  await until(seconds(phases.slowed));
  const toxic = await proxy.latency(5000);
  await until(seconds(phases.healed));
  await proxy.removeToxic(toxic);
  const summary = await driven;
  const memory = await rss.stop();
  const log = await serve.log();
  const errorLines = log.split("\n").filter((line) => /"level":(50|60)/.test(line));
  t.log(JSON.stringify({ ...summary, timeline: undefined }));
  t.log(
    summary.timeline
      .map((b) => `${b.t / 1000}s ${JSON.stringify(b.labels)} slowest ${b.slowest} ms`)
      .join("\n"),
  );

  t.deepEqual(summary.statuses, { 200: TOTAL }, "every review answered 200");
  t.is(summary.wrong, 0, summary.wrongExamples.join("\n"));
  t.is(summary.failed, 0, summary.failedExamples.join("\n"));
  t.true(summary.latencyMs.p99 < TIMEOUT_SECONDS * 1000, `p99 ${summary.latencyMs.p99} ms`);
  const degraded = summary.labels["registry down"] ?? 0;
  t.true(degraded > 0, "the outage was seen: reviews admitted at the pin with the registry down");
  t.true((summary.labels.healthy ?? 0) > 0);
  const recovered = summary.timeline.filter((b) => b.t >= (phases.healed + 4) * 1000);
  if (duration >= 20) t.true(recovered.length > 0);
  t.is(
    recovered.reduce((n, b) => n + (b.labels["registry down"] ?? 0), 0),
    0,
    "4 s after the registry healed every answer is from the registry again",
  );
  t.true(memory.peakMiB < 512, `peak RSS ${memory.peakMiB} MiB`);
  t.deepEqual(errorLines, [], "no error logged");

  const { p50, p90, p99, max } = summary.latencyMs;
  const at = (s: number) => `${s.toFixed(0)} s`;
  reportRow(t, import.meta.url, {
    section: "load",
    subject: `digestpin serve (own process, --timeout-seconds ${TIMEOUT_SECONDS}, budget 1.5 s), registry behind toxiproxy: cut at ${at(phases.cut)}, restored at ${at(phases.restored)}, 5 s latency from ${at(phases.slowed)} to ${at(phases.healed)}; 11 review shapes (pinned, drifted, unpinned, digests, invalid, exempt, /validate)`,
    tried: `${summary.sent} reviews at ${RATE}/s (${(summary.durationMs / 1000).toFixed(1)} s), open loop, ${summary.connections} TLS connections`,
    outcome: `${summary.statuses[200] ?? 0} × 200, 0 5xx; ${summary.wrong} wrong admissions or denials; ${summary.failed} failed requests; ${summary.labels.healthy ?? 0} answered with the registry, ${degraded} at the pin while it was down; latency p50 ${p50} ms, p90 ${p90} ms, p99 ${p99} ms, max ${max} ms (timeout ${TIMEOUT_SECONDS * 1000} ms; the client's own event-loop lag p99 ${summary.clientLagMs.p99} ms); RSS ${memory.beforeMiB} MiB before, ${memory.peakMiB} MiB peak, ${memory.afterMiB} MiB after`,
    figures: { summary: { ...summary, timeline: undefined }, memory, phases },
  });
});
