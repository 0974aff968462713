import { CoordinationV1Api } from "@kubernetes/client-node";
import test from "ava";
import { LeaderElection } from "../../../src/kube/index.ts";
import { sharedControlPlane } from "../../harness/kube-shared.ts";
import { waitFor } from "../../harness/wait.ts";

// Leader election over a real coordination.k8s.io Lease: one leader among candidates, a
// released Lease taken at the next try, an abandoned one after its duration.

const controlPlane = sharedControlPlane(test, { controllerManager: false });

interface Candidate {
  readonly identity: string;
  readonly election: LeaderElection;
  readonly changes: string[];
}

function candidate(namespace: string, identity: string, leaseDurationMs = 3000): Candidate {
  const changes: string[] = [];
  const election = new LeaderElection({
    kubeConfig: controlPlane().kubeConfig,
    namespace,
    name: "scan",
    identity,
    leaseDurationMs,
    renewDeadlineMs: 2000,
    retryPeriodMs: 200,
    onStartedLeading: () => changes.push("started"),
    onStoppedLeading: () => changes.push("stopped"),
  });
  return { identity, election, changes };
}

const leaders = (candidates: readonly Candidate[]) =>
  candidates.filter((c) => c.election.leading).map((c) => c.identity);

test("one of three candidates leads; a stopped leader releases the Lease and another takes it", async (t) => {
  const namespace = await controlPlane().namespace(t, "lease");
  const candidates = ["a", "b", "c"].map((identity) => candidate(namespace, identity));
  t.teardown(() => Promise.all(candidates.map((c) => c.election.stop())));
  for (const c of candidates) c.election.start();
  const first = await waitFor("a leader", () => leaders(candidates)[0]);
  // Several tries later, still exactly one leader, and it is the first.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  t.deepEqual(leaders(candidates), [first]);
  const lease = await controlPlane()
    .kubeConfig.makeApiClient(CoordinationV1Api)
    .readNamespacedLease({ name: "scan", namespace });
  t.is(lease.spec?.holderIdentity, first);
  t.is(lease.spec?.leaseDurationSeconds, 3);

  const leader = candidates.find((c) => c.identity === first)!;
  const stoppedAt = Date.now();
  await leader.election.stop();
  t.deepEqual(leader.changes, ["started", "stopped"]);
  const second = await waitFor("another leader", () => leaders(candidates)[0]);
  t.not(second, first);
  // Released: taken at the next try, well within the Lease duration.
  t.true(Date.now() - stoppedAt < 3000, `${Date.now() - stoppedAt} ms`);
  t.is(leaders(candidates).length, 1);
});

test("a leader that stops renewing (its process gone) loses the Lease after its duration", async (t) => {
  const namespace = await controlPlane().namespace(t, "lease");
  const a = candidate(namespace, "a");
  a.election.start();
  await waitFor("a to lead", () => (a.election.leading ? true : undefined));
  const b = candidate(namespace, "b");
  t.teardown(() => b.election.stop());
  b.election.start();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  t.false(b.election.leading, "b never leads while a renews");
  t.true(a.election.holds());
  await a.election.stop({ release: false });
  t.false(a.election.holds());
  const abandonedAt = Date.now();
  await waitFor("b to take over", () => (b.election.leading ? true : undefined), 10_000);
  const took = Date.now() - abandonedAt;
  // Not before the Lease duration (3 s, less the time since a's last renewal), not much after.
  t.true(took > 2500 && took < 3000 + 1000, `${took} ms`);
  t.deepEqual(b.changes, ["started"]);
});
