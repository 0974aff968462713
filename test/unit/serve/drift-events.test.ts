import test from "ava";
import type { V1ConfigMap } from "@kubernetes/client-node";
import { handleReview } from "../../../src/admission/handler.ts";
import { driftEvents } from "../../../src/serve/drift-events.ts";
import { D, E, harness, pinnedPolicy, pod, podSpec, request } from "../admission/fixtures.ts";

async function driftReview(dryRun = false) {
  const { deps } = harness(pinnedPolicy(), { "docker.io/library/busybox:1.36": E });
  const req = request("Pod", pod(podSpec({ app: "busybox:1.36", side: "busybox:9" })), { dryRun });
  return { req, judged: (await handleReview("mutate", req, deps)).judged };
}

test("a drift denial becomes one TagDrift Event on the policy ConfigMap, quiet for 10 minutes", async (t) => {
  const recorded: { target: V1ConfigMap; reason: string; message: string }[] = [];
  let now = 0;
  const report = driftEvents(
    {
      warning: (target, reason, message) => (
        recorded.push({ target, reason, message }),
        Promise.resolve()
      ),
    },
    { namespace: "digestpin-system", name: "digestpin-policy" },
    () => now,
  );
  const { req, judged } = await driftReview();
  report(req, judged);
  report(req, judged);
  t.is(recorded.length, 1, "unpinned denials and repeats are not reported");
  t.is(recorded[0]?.reason, "TagDrift");
  t.like(recorded[0]?.target.metadata, { namespace: "digestpin-system", name: "digestpin-policy" });
  t.regex(
    recorded[0]?.message ?? "",
    new RegExp(`^Pod team/subject containers\\[app\\]: .*${D}.*${E}`, "s"),
  );
  now += 10 * 60_000;
  report(req, judged);
  t.is(recorded.length, 2);
  const dry = await driftReview(true);
  report(dry.req, dry.judged);
  t.is(recorded.length, 2, "dry-runs are not reported");
});
