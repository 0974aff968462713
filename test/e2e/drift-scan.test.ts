import { CoordinationV1Api } from "@kubernetes/client-node";
import test from "ava";
import { parse } from "yaml";
import { workloadManifest } from "../harness/e2e-objects.ts";
import { sharedE2e, SYSTEM_NAMESPACE, type E2e } from "../harness/e2e-suite.ts";
import { waitFor } from "../harness/wait.ts";
import { startDigestpinWebhook, type DigestpinWebhook } from "../harness/webhook.ts";

// Issue 18's acceptance: two `digestpin serve` replicas on one API server, driftScan.interval
// 2s. A re-pushed pinned tag is in the report within 10 s with the Deployment using it (no Pod
// is ever created: no controller-manager), one TagMoved Event, the gauge on the leader only,
// requests from one replica only; the Lease moves when the leader stops; an approval clears
// the entry; a registry that stops answering is "unreachable", never a change of the gauge.
const e2e = sharedE2e(test, { name: "drift-scan", controllerManager: false });

const INTERVAL_MS = 2000;
const LEASE_DURATION_MS = 15_000;

interface Report {
  checked: number;
  scannedBy: string;
  moved: {
    tag: string;
    pinned: string;
    current: string;
    firstSeen: string;
    change?: { summary: string; files?: unknown };
    workloads: { namespace: string; kind: string; name: string; running: string[] }[];
    unreachable?: string;
  }[];
  unreachable: { tag: string; error: string }[];
}

async function report(env: E2e): Promise<Report | undefined> {
  const configMap = await env.core
    .readNamespacedConfigMap({ name: "digestpin-drift", namespace: SYSTEM_NAMESPACE })
    .catch(() => undefined);
  const text = configMap?.data?.["drift.yaml"];
  return text === undefined ? undefined : (parse(text) as Report);
}

async function tagMovedEvents(env: E2e): Promise<string[]> {
  const events = await env.core.listNamespacedEvent({ namespace: SYSTEM_NAMESPACE });
  return events.items.filter((e) => e.reason === "TagMoved").map((e) => e.message ?? "");
}

/** The replica whose digestpin_drift_scan_leader is 1 (waits for exactly one). */
async function leaderOf(replicas: readonly DigestpinWebhook[]): Promise<DigestpinWebhook> {
  return waitFor(
    "exactly one scan leader",
    async () => {
      const running = replicas.filter((r) => r.running);
      const flags = await Promise.all(running.map((r) => r.metric("digestpin_drift_scan_leader")));
      const leaders = running.filter((_, i) => flags[i] === 1);
      return leaders.length === 1 ? leaders[0] : undefined;
    },
    LEASE_DURATION_MS + 5000,
    100,
  );
}

test.serial(
  "two replicas: one scans; a moved tag is reported with its Deployment, announced once, cleared by approval; the Lease moves when the leader stops or hangs",
  async (t) => {
    const env = e2e();
    const { crane, registry } = env;
    const namespace = await env.namespace(t, "shop");
    const sh = await env.shell(t);
    await sh.write("registry-ca.pem", registry.caPem);
    const image = registry.ref("shop/web:1.4");
    const pinned = await crane.pushFiles(image, { harmless: "" });
    await env.setPolicy(env.policy({ driftScan: { interval: "2s" } }));
    const generation = await env.webhook.metric("digestpin_policy_generation");
    const pin = await sh.digestpin([
      "pin",
      image,
      "--reason",
      "release 1.4",
      "--ca-file",
      "registry-ca.pem",
    ]);
    t.is(pin.exitCode, 0, pin.output);
    await waitFor("the pin to be in force", async () =>
      (await env.webhook.metric("digestpin_policy_generation")) > generation ? true : undefined,
    );
    const second = await startDigestpinWebhook(env.suite, env.cluster, {
      namespace: SYSTEM_NAMESPACE,
      name: "digestpin-e2e-drift-scan-b",
      probeNamespace: await env.namespace(env.suite),
      register: false, // a second replica of the same webhook: the API server calls the first
    });
    const replicas = [env.webhook, second];
    const leader = await leaderOf(replicas);
    const follower = replicas.find((r) => r !== leader)!;

    await env.objects.create(workloadManifest("Deployment", "web", { web: image }, { namespace }));
    // A scan with the pin in force and nothing moved.
    await waitFor("a scan of the pin", async () => {
      const current = await report(env);
      return current?.checked === 1 && current.moved.length === 0 ? true : undefined;
    });

    // The attack: the tag re-pushed.
    const before = (await registry.accessLog()).length;
    const repushed = await crane.pushFiles(image, { harmless: "", harmful: "rm -rf /" });
    const movedAt = performance.now();
    const found = await waitFor(
      "the moved tag in the report",
      async () => {
        const current = await report(env);
        return current?.moved.length === 1 ? current : undefined;
      },
      10_000,
      50,
    );
    const detectedMs = Math.round(performance.now() - movedAt);
    t.log(`moved tag reported after ${detectedMs} ms`);
    t.true(detectedMs < 10_000);
    const [entry] = found.moved;
    t.like(entry, { tag: image, pinned: pinned.digest, current: repushed.digest });
    t.deepEqual(entry!.workloads, [{ namespace, kind: "Deployment", name: "web", running: [] }]);
    // The change, computed once by the leader: the layers, and the files with their paths.
    t.regex(entry!.change?.summary ?? "", /^image: /);
    t.deepEqual(entry!.change?.files, { added: 1, removed: 0, changed: 0, paths: ["+ /harmful"] });

    // Two more scans: still one entry, one Event; the gauge on the leader only.
    await new Promise((resolve) => setTimeout(resolve, 2 * INTERVAL_MS + 500));
    const events = await tagMovedEvents(env);
    t.is(events.length, 1, events.join("\n"));
    t.true(
      events[0]!.startsWith(
        `${image} moved: pinned to ${pinned.digest}, the registry now serves ${repushed.digest}.`,
      ),
      events[0],
    );
    t.regex(events[0]!, new RegExp(`Used by Deployment ${namespace}/web\\.`));
    t.is((await report(env))?.moved.length, 1);
    t.is(await leader.metric("digestpin_pins_moved"), 1);
    t.is(await leader.metric("digestpin_drift_scan_leader"), 1);
    const followerText = await follower.metrics();
    t.false(/^digestpin_pins_moved /m.test(followerText), "the follower exports no pins_moved");
    t.is(await follower.metric("digestpin_drift_scan_leader"), 0);
    t.is(await follower.metric("digestpin_drift_scan_duration_seconds_count"), 0);
    t.true((await leader.metric("digestpin_drift_scan_duration_seconds_count")) >= 3);

    // One replica's requests: a HEAD of the tag per interval, not two.
    const windowMs = performance.now() - movedAt;
    const requests = (await registry.accessLog())
      .slice(before)
      .filter((e) => e.path === "/v2/shop/web/manifests/1.4" && e.userAgent === "digestpin");
    t.log(`${requests.length} requests for the tag in ${Math.round(windowMs)} ms`);
    t.deepEqual([...new Set(requests.map((r) => r.method))], ["HEAD"]);
    t.true(requests.length <= Math.ceil(windowMs / INTERVAL_MS) + 1, `${requests.length}`);

    // digestpin drift: the tag with its Deployment, exit 1.
    const drift = await sh.digestpin(["drift"]);
    t.is(drift.exitCode, 1, drift.output);
    t.regex(drift.output, new RegExp(`^${image.replace(/\./g, "\\.")}  sha256:`, "m"));
    t.regex(drift.output, new RegExp(`used by  Deployment ${namespace}/web$`, "m"));
    t.regex(drift.output, /^ {2}files {4}1 added, 0 removed, 0 changed: \+ \/harmful$/m);
    t.log(drift.output);
    const json = await sh.digestpin(["drift", "-o", "json"]);
    t.is((JSON.parse(json.output) as Report).moved[0]?.current, repushed.digest);
    const scanNow = await sh.digestpin(["drift", "--scan", "--ca-file", "registry-ca.pem"]);
    t.is(scanNow.exitCode, 1, scanNow.output);
    t.regex(scanNow.output, new RegExp(`used by  Deployment ${namespace}/web$`, "m"));

    // The leader stops: the other replica takes the Lease within its duration.
    const stoppedAt = performance.now();
    await leader.stop();
    const next = await leaderOf(replicas);
    const takeoverMs = Math.round(performance.now() - stoppedAt);
    t.log(`the other replica leads after ${takeoverMs} ms`);
    t.is(next, follower);
    t.true(takeoverMs < LEASE_DURATION_MS);
    const lease = await env.cluster.kubeConfig
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: "digestpin-drift-scan", namespace: SYSTEM_NAMESPACE });
    t.truthy(lease.spec?.holderIdentity);
    await waitFor("the new leader's gauge", async () =>
      (await next.metric("digestpin_pins_moved")) === 1 ? true : undefined,
    );
    t.is((await tagMovedEvents(env)).length, 1, "no second Event for the same digest");

    // Approval: the entry leaves at the next scan.
    const approve = await sh.digestpin([
      "approve",
      image,
      "--digest",
      repushed.digest,
      "--reason",
      "reviewed",
      "--ca-file",
      "registry-ca.pem",
    ]);
    t.is(approve.exitCode, 0, approve.output);
    const approvedAt = performance.now();
    await waitFor(
      "the gauge to drop to 0",
      async () => ((await next.metric("digestpin_pins_moved")) === 0 ? true : undefined),
      3 * INTERVAL_MS,
      50,
    );
    t.log(`gauge 0 after ${Math.round(performance.now() - approvedAt)} ms`);
    t.deepEqual((await report(env))?.moved, []);
    const clean = await sh.digestpin(["drift"]);
    t.is(clean.exitCode, 0, clean.output);
    t.regex(clean.output, /^no pinned tag moved \(1 checked at /);

    // A leader that hangs (SIGSTOP: no renewal, no release) loses the Lease once it expires;
    // continued, it finds the Lease taken and steps down: never two leaders.
    await leader.start();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    t.is(await leader.metric("digestpin_drift_scan_leader"), 0);
    next.freeze();
    const frozenAt = performance.now();
    await waitFor(
      "the restarted replica to take the expired Lease",
      async () => ((await leader.metric("digestpin_drift_scan_leader")) === 1 ? true : undefined),
      LEASE_DURATION_MS + 5000,
      100,
    );
    const expiredMs = Math.round(performance.now() - frozenAt);
    t.log(`a hung leader replaced after ${expiredMs} ms (Lease ${LEASE_DURATION_MS} ms)`);
    // Not before the Lease expired (the last renewal was at most one try, 2 s, before the
    // freeze); at most its duration after the other saw that renewal (up to a try later), plus
    // the try that finds it expired.
    t.true(expiredMs > LEASE_DURATION_MS - 2000 && expiredMs < LEASE_DURATION_MS + 4000);
    next.thaw();
    await waitFor("the thawed replica to step down", async () =>
      (await next.metric("digestpin_drift_scan_leader")) === 0 ? true : undefined,
    );
    t.is(await leaderOf(replicas), leader);

    // Moved again, then the registry stops: unreachable, and the gauge stays.
    const again = await crane.repush(image);
    await waitFor("the new move", async () =>
      (await report(env))?.moved[0]?.current === again.digest ? true : undefined,
    );
    // The Event follows the report (it names the written ConfigMap); one per new digest.
    await waitFor("a second TagMoved Event", async () =>
      (await tagMovedEvents(env)).length === 2 ? true : undefined,
    );
    await registry.stop();
    const down = await waitFor("the entry to say unreachable", async () => {
      const current = await report(env);
      return current?.moved[0]?.unreachable !== undefined ? current : undefined;
    });
    t.is(down.moved[0]?.current, again.digest);
    t.is(down.unreachable[0]?.tag, image);
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
    t.is(await leader.metric("digestpin_pins_moved"), 1);
    t.true(
      (await leader.metric("digestpin_drift_scan_errors_total", {
        reason: "ERR_REGISTRY_UNREACHABLE",
      })) >= 1,
    );
  },
);
