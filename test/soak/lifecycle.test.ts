import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { reportRow } from "../helpers/reliability.ts";
import { freePort } from "../harness/ports.ts";
import { startControlPlane } from "../harness/kube.ts";
import { createCrane, startRegistry, tempDir } from "../harness/testbed.ts";
import { putConfigMap } from "../harness/kube-configmaps.ts";
import type { DriverSummary } from "./load-driver.ts";
import { runDriver, sampleRss, secretVolume, soakCa, startServe, until } from "./harness.ts";
import { outcomesOf, type ImageOption } from "./outcomes.ts";
import { podReview, type Outcome, type ReviewCase } from "./reviews.ts";

// Lifecycle under load, each against `digestpin serve` processes with the load driver in its
// own process: a rolling restart by SIGTERM, certificate rotations through a kubelet-style
// Secret volume, and policy ConfigMap edits that must switch whole.

const RATE = Number(process.env.SOAK_LIFECYCLE_RATE ?? 300);
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const fixed = (decision: string, image: string): ImageOption[] => [{ decision, image }];
const pod = (images: string[]) =>
  podReview(Object.fromEntries(images.map((img, i) => [`c${i}`, img])));
const timeline = (summary: DriverSummary) =>
  summary.timeline
    .map(
      (b) =>
        `${b.t / 1000}s sent ${b.sent} ${JSON.stringify(b.labels)} failed ${b.failed} slowest ${b.slowest} ms`,
    )
    .join("\n");
const figures = (summary: DriverSummary) => {
  const { p50, p99, max } = summary.latencyMs;
  return `${summary.failed} failed requests (${Object.values(summary.attemptFailures).reduce((a, b) => a + b, 0)} failed attempts, ${summary.retried} retried on a fresh connection), ${summary.wrong} wrong answers, ${summary.tlsFailures} TLS failures; statuses ${JSON.stringify(summary.statuses)}; latency p50 ${p50} ms, p99 ${p99} ms, max ${max} ms (client event-loop lag p99 ${summary.clientLagMs.p99} ms)`;
};

/** A pinned-tag world on a real registry, shared by the SIGTERM and rotation runs. */
async function pinnedWorld(t: ExecutionContext, dir: string) {
  const registry = await startRegistry(t, { auth: "none" });
  const crane = await createCrane(t, registry);
  const app = await crane.pushRandomImage(registry.ref("life/app:1"));
  const policyFile = join(dir, "policy.yaml");
  await writeFile(
    policyFile,
    [
      "apiVersion: digestpin.dev/v1alpha1",
      "kind: Policy",
      "cacheTTL: 1s",
      `registries: ${JSON.stringify([{ host: registry.host, ca: registry.caPem, allowPrivateAddresses: true }])}`,
      "pins:",
      `  ${registry.ref("life/app:1")}: ${app.digest}`,
      "",
    ].join("\n"),
  );
  const tag = registry.ref("life/app:1");
  const cases: ReviewCase[] = [
    {
      name: "pinned tag",
      path: "/mutate",
      review: pod([tag]),
      outcomes: outcomesOf([fixed("mutate/pinned", `${tag}@${app.digest}`)]),
    },
    {
      name: "pinned digest",
      path: "/validate",
      review: pod([`${tag}@${app.digest}`]),
      outcomes: outcomesOf([fixed("allow/digest-pinned", `${tag}@${app.digest}`)]),
    },
    {
      name: "unpinned digest",
      path: "/mutate",
      review: pod([`${registry.ref("life/other")}@${digest("9")}`]),
      outcomes: outcomesOf([fixed("deny/digest-unknown", "")]),
    },
  ];
  return { policyFile, cases };
}

test.serial(
  "SIGTERM during load: a rolling restart of two replicas fails no request",
  async (t) => {
    const dir = await tempDir(t, "soak-sigterm");
    const { policyFile, cases } = await pinnedWorld(t, dir);
    const ca = soakCa();
    const pair = ca.issue();
    await writeFile(join(dir, "tls.crt"), pair.cert);
    await writeFile(join(dir, "tls.key"), pair.key, { mode: 0o600 });
    const args = [
      ...["--policy", policyFile, "--tls-cert-file", join(dir, "tls.crt")],
      ...["--tls-key-file", join(dir, "tls.key"), "--drain-delay", "2"],
    ];
    const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const replica = (name: string, i: 0 | 1) =>
      startServe(t, name, args, { dir, port: ports[i * 2]!, metricsPort: ports[i * 2 + 1]! });
    const first = [await replica("a", 0), await replica("b", 1)];
    const seconds = 20;
    const startAt = Date.now() + 3000;
    const driven = runDriver(t, dir, "sigterm", {
      targets: first.map((r) => ({ url: r.url, readyUrl: r.readyUrl })),
      ca: ca.caPem,
      rate: RATE,
      total: RATE * seconds,
      startAt,
      cases,
      timeoutMs: 10_000,
      retries: 1,
      maxInFlight: 2000,
      readinessPollMs: 100,
    });
    const drains: { replica: string; exitCode: number | null; drainMs: number }[] = [];
    for (const [i, at] of [
      [0, 5],
      [1, 12],
    ] as const) {
      await until(startAt + at * 1000);
      const old = first[i]!;
      const signalled = Date.now();
      old.signal("SIGTERM");
      const exitCode = await old.exited;
      drains.push({ replica: old.name, exitCode, drainMs: Date.now() - signalled });
      const log = await old.log();
      t.regex(log, /stopping: draining in-flight reviews/, old.name);
      t.regex(log, /"msg":"stopped"/, old.name);
      await replica(`${old.name}-2`, i); // the rollout's new pod, on the same address
    }
    const summary = await driven;
    t.log(JSON.stringify({ ...summary, timeline: undefined }), drains);
    t.log(timeline(summary));
    t.deepEqual(
      drains.map((d) => d.exitCode),
      [0, 0],
    );
    t.is(summary.failed, 0, summary.failedExamples.join("\n"));
    t.is(summary.wrong, 0, summary.wrongExamples.join("\n"));
    t.deepEqual(summary.statuses, { 200: RATE * seconds });
    reportRow(t, import.meta.url, {
      section: "lifecycle",
      subject:
        "SIGTERM during load: rolling restart of 2 replicas (--drain-delay 2), the client routing by /readyz as endpoints do and retrying once on a fresh connection",
      tried: `${summary.sent} reviews at ${RATE}/s over ${seconds} s; replica a stopped at 5 s, b at 12 s, each replaced on its address`,
      outcome: `${figures(summary)}; drains ${drains.map((d) => `${d.replica} exit ${String(d.exitCode)} after ${(d.drainMs / 1000).toFixed(1)} s`).join(", ")}`,
      figures: { summary: { ...summary, timeline: undefined }, drains },
    });
  },
);

test.serial(
  "certificate rotation during load (kubelet symlink swap): no TLS failure",
  async (t) => {
    const dir = await tempDir(t, "soak-rotation");
    const { policyFile, cases } = await pinnedWorld(t, dir);
    const ca = soakCa();
    const volume = await secretVolume(t, ca.issue());
    const serve = await startServe(
      t,
      "rotation",
      [
        ...["--policy", policyFile, "--tls-cert-file", volume.certFile],
        ...["--tls-key-file", volume.keyFile, "--drain-delay", "0"],
      ],
      { dir },
    );
    const seconds = 16;
    const startAt = Date.now() + 3000;
    const driven = runDriver(t, dir, "rotation", {
      targets: [{ url: serve.url }],
      ca: ca.caPem,
      rate: RATE,
      total: RATE * seconds,
      startAt,
      cases,
      timeoutMs: 10_000,
      retries: 0, // a TLS failure is a failure here
      maxInFlight: 2000,
      requestsPerConnection: 25, // new connections all the time, each a full handshake
    });
    const rotations = [4, 8, 12];
    for (const at of rotations) {
      await until(startAt + at * 1000);
      await volume.update(ca.issue());
    }
    const summary = await driven;
    t.log(JSON.stringify({ ...summary, timeline: undefined }));
    t.is(summary.tlsFailures, 0);
    t.is(summary.failed, 0, summary.failedExamples.join("\n"));
    t.is(summary.wrong, 0, summary.wrongExamples.join("\n"));
    t.is(summary.certificates.length, rotations.length + 1, "every rotated certificate was served");
    reportRow(t, import.meta.url, {
      section: "lifecycle",
      subject:
        "certificate rotation during load: --tls-cert-file/--tls-key-file in a kubelet-style Secret volume, ..data swapped atomically 3 times",
      tried: `${summary.sent} reviews at ${RATE}/s over ${seconds} s, a new TLS connection every 25 requests (${summary.connections} handshakes), no retries`,
      outcome: `${figures(summary)}; ${summary.certificates.length} distinct serving certificates seen`,
      figures: { summary: { ...summary, timeline: undefined } },
    });
  },
);

test.serial(
  "policy ConfigMap edits during load switch atomically: no review sees a mix",
  async (t) => {
    const dir = await tempDir(t, "soak-policy");
    const cluster = await startControlPlane(t, { controllerManager: false });
    const ns = await cluster.namespace(t, "soak");
    const repo = (name: string) => `registry.example.com/soak/${name}`;
    const a = { app1: digest("1"), app2: digest("2"), app3: digest("3") };
    const b = { app1: digest("4"), app2: digest("5"), app3: digest("6") };
    const unknown = digest("9");
    const policyText = (pins: typeof a, unpinned: string) =>
      [
        "apiVersion: digestpin.dev/v1alpha1",
        "kind: Policy",
        `unpinned: ${unpinned}`,
        "pins:",
        ...Object.entries(pins).map(([name, d]) => `  ${repo(name)}:1: ${d}`),
        "",
      ].join("\n");
    // Policy A and B differ in every pin and in a setting (unpinned): a review judged by half of
    // one and half of the other gets a combination of decisions that neither gives.
    const policies = { A: policyText(a, "deny"), B: policyText(b, "allow") };
    await putConfigMap(cluster.kubeConfig, ns, "digestpin-policy", { "policy.yaml": policies.A });
    const ca = soakCa();
    const pair = ca.issue();
    await writeFile(join(dir, "tls.crt"), pair.cert);
    await writeFile(join(dir, "tls.key"), pair.key, { mode: 0o600 });
    const serve = await startServe(
      t,
      "policy",
      [
        ...["--policy-configmap", `${ns}/digestpin-policy`, "--namespace", ns],
        ...["--kubeconfig", cluster.kubeconfigPath, "--drain-delay", "0"],
        ...["--tls-cert-file", join(dir, "tls.crt"), "--tls-key-file", join(dir, "tls.key")],
      ],
      { dir },
    );
    const outcome = (label: string, images: string[], decisions: string[]): Outcome => {
      const allowed = decisions.every((d) => !d.startsWith("deny/"));
      return {
        label,
        allowed,
        decisions: decisions.map((d, i) => `containers[c${i}]=${d}`).join(","),
        ...(allowed && {
          images: Object.fromEntries(images.map((img, i) => [`/spec/containers/${i}/image`, img])),
        }),
      };
    };
    const review = (
      name: string,
      path: ReviewCase["path"],
      images: string[],
      A: string[],
      B: string[],
    ): ReviewCase => ({
      name,
      path,
      review: pod(images),
      outcomes: [outcome("policy A", images, A), outcome("policy B", images, B)],
    });
    const four = [
      `${repo("app1")}:1@${a.app1}`,
      `${repo("app2")}:1@${b.app2}`,
      `${repo("app3")}@${a.app3}`,
      `${repo("app4")}@${unknown}`,
    ];
    const aOnly = [`${repo("app1")}:1@${a.app1}`, `${repo("app3")}:1@${a.app3}`];
    const bOnly = [`${repo("app2")}:1@${b.app2}`, `${repo("app9")}@${unknown}`];
    const cases = [
      review(
        "four images",
        "/mutate",
        four,
        [
          "allow/digest-pinned",
          "deny/digest-mismatch",
          "allow/digest-known",
          "deny/digest-unknown",
        ],
        [
          "deny/digest-mismatch",
          "allow/digest-pinned",
          "allow/digest-unknown",
          "allow/digest-unknown",
        ],
      ),
      review(
        "admitted by A only",
        "/mutate",
        aOnly,
        ["allow/digest-pinned", "allow/digest-pinned"],
        ["deny/digest-mismatch", "deny/digest-mismatch"],
      ),
      review(
        "admitted by B only",
        "/mutate",
        bOnly,
        ["deny/digest-mismatch", "deny/digest-unknown"],
        ["allow/digest-pinned", "allow/digest-unknown"],
      ),
      review(
        "validate, admitted by A only",
        "/validate",
        aOnly,
        ["allow/digest-pinned", "allow/digest-pinned"],
        ["deny/digest-mismatch", "deny/digest-mismatch"],
      ),
    ];
    const seconds = 24;
    const bucketMs = 250;
    const startAt = Date.now() + 3000;
    const driven = runDriver(t, dir, "policy", {
      targets: [{ url: serve.url }],
      ca: ca.caPem,
      rate: RATE,
      total: RATE * seconds,
      startAt,
      cases,
      timeoutMs: 10_000,
      retries: 1,
      maxInFlight: 2000,
      bucketMs,
    });
    const rss = sampleRss(serve.pid);
    const edits: { at: number; to: "A" | "B" }[] = [];
    for (let i = 1; i <= 7; i++) {
      await until(startAt + i * 3000);
      const to = i % 2 === 1 ? "B" : "A";
      edits.push({ at: Date.now() - startAt, to });
      await putConfigMap(cluster.kubeConfig, ns, "digestpin-policy", {
        "policy.yaml": policies[to],
      });
    }
    const summary = await driven;
    const memory = await rss.stop(0);
    t.log(JSON.stringify({ ...summary, timeline: undefined }), edits);
    t.is(summary.wrong, 0, `a review saw a mix of policies:\n${summary.wrongExamples.join("\n")}`);
    t.is(summary.failed, 0, summary.failedExamples.join("\n"));
    t.true((summary.labels["policy A"] ?? 0) > 0 && (summary.labels["policy B"] ?? 0) > 0);
    // How long each edit took to be in force: the first bucket after it answered only by it.
    const switches = edits.map(({ at, to }) => {
      const label = `policy ${to}`;
      const settled = summary.timeline.find(
        (bucket) =>
          bucket.t >= at &&
          Object.keys(bucket.labels).length > 0 &&
          Object.keys(bucket.labels).every((l) => l === label),
      );
      return settled === undefined ? Number.POSITIVE_INFINITY : settled.t + bucketMs - at;
    });
    const slowest = Math.max(...switches);
    t.true(slowest < 3000, `an edit took ${slowest} ms to take effect`);
    reportRow(t, import.meta.url, {
      section: "lifecycle",
      subject:
        "policy ConfigMap edits during load (real API server, --policy-configmap): policies A and B differ in every pin and in unpinned; 4 review shapes whose per-image verdicts differ between them",
      tried: `${summary.sent} reviews at ${RATE}/s over ${seconds} s; 7 edits (A→B→A…) every 3 s`,
      outcome: `0 reviews with a mix of A and B (${summary.labels["policy A"] ?? 0} wholly A, ${summary.labels["policy B"] ?? 0} wholly B); ${figures(summary)}; each edit in force within ${(slowest / 1000).toFixed(2)} s (${bucketMs} ms resolution); RSS ${memory.beforeMiB} → peak ${memory.peakMiB} MiB`,
      figures: { summary: { ...summary, timeline: undefined }, edits, switchesMs: switches },
    });
  },
);
