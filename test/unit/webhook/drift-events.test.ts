import test from "ava";
import { handleReview } from "../../../src/admission/handler.ts";
import type { EventSubject } from "../../../src/kube/events.ts";
import { driftEvents } from "../../../src/webhook/drift-events.ts";
import { D, E, harness, pinnedPolicy, pod, podSpec, request } from "../admission/fixtures.ts";

const REPLICA_SET = {
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  name: "web-5d9c",
  uid: "0b7e5c2a-rs",
  controller: true,
};

async function driftReview(
  options: { dryRun?: boolean; owned?: boolean; namespace?: string } = {},
) {
  const { deps } = harness(pinnedPolicy(), { "docker.io/library/busybox:1.36": E });
  const metadata = {
    name: "subject",
    ...(options.owned === true && { ownerReferences: [REPLICA_SET] }),
  };
  const req = request("Pod", pod(podSpec({ app: "busybox:1.36", side: "busybox:9" }), metadata), {
    dryRun: options.dryRun ?? false,
    namespace: options.namespace ?? "team",
  });
  return { req, judged: (await handleReview("mutate", req, deps)).judged };
}

function recorder() {
  const recorded: { subject: EventSubject; reason: string; message: string }[] = [];
  const events = {
    warning: (subject: EventSubject, reason: string, message: string) => (
      recorded.push({ subject, reason, message }),
      Promise.resolve()
    ),
  };
  return { recorded, events };
}

test("a drift denial becomes one TagDrift Event on the denied Pod in its namespace, quiet for 10 minutes", async (t) => {
  const { recorded, events } = recorder();
  let now = 0;
  const report = driftEvents(events, () => now);
  const { req, judged } = await driftReview();
  report(req, judged);
  report(req, judged);
  t.is(recorded.length, 1, "unpinned denials and repeats are not reported");
  t.is(recorded[0]?.reason, "TagDrift");
  t.deepEqual(recorded[0]?.subject, {
    apiVersion: "v1",
    kind: "Pod",
    namespace: "team",
    name: "subject",
  });
  t.is(
    recorded[0]?.message,
    `docker.io/library/busybox:1.36 moved: pinned to ${D}, the registry now serves ${E}. Pod ` +
      `subject containers[app] was denied. Review the new image with 'digestpin diff ` +
      `docker.io/library/busybox:1.36'; to accept it run digestpin approve ` +
      `docker.io/library/busybox:1.36 --digest ${E} --reason "…".`,
  );
  now += 10 * 60_000;
  report(req, judged);
  t.is(recorded.length, 2);
  const dry = await driftReview({ dryRun: true });
  report(dry.req, dry.judged);
  t.is(recorded.length, 2, "dry-runs are not reported");
});

test("a controller's Pod admitted at the pin is reported on the controller, apart from denials and per namespace", async (t) => {
  const { recorded, events } = recorder();
  const report = driftEvents(events, () => 0);
  const owned = await driftReview({ owned: true });
  t.is(owned.judged[0]?.decision.action, "mutate");
  report(owned.req, owned.judged);
  report(owned.req, owned.judged);
  t.is(recorded.length, 1);
  t.deepEqual(recorded[0]?.subject, {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    name: "web-5d9c",
    uid: "0b7e5c2a-rs",
    namespace: "team",
  });
  t.regex(recorded[0]?.message ?? "", /containers\[app\] was admitted at the pinned digest\./);
  const denied = await driftReview();
  report(denied.req, denied.judged);
  const elsewhere = await driftReview({ owned: true, namespace: "other" });
  report(elsewhere.req, elsewhere.judged);
  t.is(recorded.length, 3, "another outcome or another namespace is another Event");
});
