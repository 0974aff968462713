import test from "ava";
import { planPins } from "../../../src/cli/pin/plan.ts";
import { policyFromText } from "../../../src/policy/decide/policy.ts";
import { runCli } from "../../helpers/run-cli.ts";

// What `digestpin pin` does with each tag, and its usage errors (no registry needed).

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const policy = policyFromText(
  `apiVersion: digestpin.dev/v1alpha1\nkind: Policy\npins:\n  app:1: ${digest("1")}\n`,
  "policy.yaml",
);
const record = (key: string, d: string) => ({ key, digest: d, history: [] });

test("new keys are pinned, same digests unchanged, other digests refused (also within one run)", (t) => {
  const steps = planPins(policy, [
    record("docker.io/library/app:1", digest("1")),
    record("docker.io/library/app:1", digest("2")),
    record("docker.io/library/app:2", digest("3")),
    record("docker.io/library/app:2", digest("3")),
    record("docker.io/library/app:2", digest("4")),
  ]);
  t.deepEqual(
    steps.map((step) => step.action),
    ["unchanged", "refused", "pin", "unchanged", "refused"],
  );
  const refused = steps[4];
  t.is(refused?.action === "refused" ? refused.pinned.digest : undefined, digest("3"));
});

test("pin without references, or with conflicting targets, is a usage error", async (t) => {
  const none = await runCli(["pin", "--policy", "policy.yaml"]);
  t.is(none.status, 2);
  t.regex(none.stderr, /no image reference or -f given/);
  const both = await runCli(["pin", "app:1", "--policy", "p.yaml", "--namespace", "x"]);
  t.is(both.status, 2);
  t.regex(both.stderr, /--policy edits a file; it cannot be combined with/);
  const nowhere = await runCli(["pin", "app:1"], { HOME: "/nonexistent" });
  t.is(nowhere.status, 2);
  t.regex(nowhere.stderr, /no policy given: use --policy FILE, or --kubeconfig FILE/);
  const help = await runCli(["pin", "--help"]);
  t.is(help.status, 0);
  t.regex(help.stdout, /^Usage: digestpin pin REF… \[options\]/);
});
