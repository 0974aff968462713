import { policyReport } from "../../../src/webhook/policy-report.ts";
import { silentLogger } from "../../../src/observability/index.ts";
import test from "ava";
import { assemblePolicy, unreadable } from "../../../src/policy/sources/assemble.ts";
import { checkPolicyDocument } from "../../../src/policy/document/document.ts";
import { DocumentCache } from "../../../src/policy/sources/document-cache.ts";
import { PolicyHolder } from "../../../src/policy/sources/policy-holder.ts";
import { Metrics } from "../../../src/observability/metrics.ts";
import { digest, HEADER } from "./fixtures.ts";

// The parts every policy source shares: assembling documents, caching them, swapping policies.

const PINS = "apiVersion: digestpin.dev/v1alpha1\nkind: Pins\n";
const policy = (body = "") => checkPolicyDocument(HEADER + body, "policy.yaml");
const pins = (name: string, body: string) => checkPolicyDocument(PINS + body, name);

test("assemble merges the pins of every document into the policy", (t) => {
  const result = assemblePolicy(policy(`pins:\n  a:1: ${digest("1")}\n`), [
    pins("b.yaml", `pins:\n  b:1: ${digest("2")}\n`),
    pins("c.yaml", `pins:\n  a:1: ${digest("1")}\n`),
  ]);
  t.true(result.ok);
  if (result.ok) {
    t.is(result.policy.pins.size, 2);
    t.deepEqual(result.policy.sources, ["policy.yaml", "b.yaml", "c.yaml"]);
  }
});

test("assemble reports every document's issues at once, then conflicts naming both places", (t) => {
  const broken = assemblePolicy(policy("mode: strict\n"), [
    pins("b.yaml", "pins:\n  b:1: sha256:abc\n"),
    unreadable("c.yaml", "cannot read: ENOENT"),
  ]);
  t.false(broken.ok);
  if (!broken.ok)
    t.deepEqual(
      broken.issues.map((i) => i.source),
      ["policy.yaml", "b.yaml", "c.yaml"],
    );

  const conflict = assemblePolicy(policy(`pins:\n  a:1: ${digest("1")}\n`), [
    pins("b.yaml", `pins:\n  a:1: ${digest("2")}\n`),
  ]);
  t.false(conflict.ok);
  if (!conflict.ok) {
    t.is(conflict.issues[0]?.source, "b.yaml");
    t.regex(conflict.issues[0]?.message ?? "", /in policy\.yaml:4:3; a tag has one pin/);
  }
});

test("assemble refuses a Pins document where the policy belongs", (t) => {
  const result = assemblePolicy(pins("policy.yaml", "pins: {}\n"), []);
  t.false(result.ok);
  if (!result.ok) t.regex(result.issues[0]?.message ?? "", /expected a kind: Policy document/);
});

test("the document cache parses a document once per version", (t) => {
  const cache = new DocumentCache();
  const parse = () => policy();
  cache.get("a", "1", parse);
  cache.get("a", "1", parse);
  cache.get("b", "1", parse);
  t.is(cache.parses, 2);
  cache.get("a", "2", parse);
  t.is(cache.parses, 3);
  cache.retain(new Set(["b"]));
  cache.get("a", "2", parse);
  cache.get("b", "1", parse);
  t.is(cache.parses, 4);
});

test("the holder swaps whole policies, keeps the last good one and sets the metrics", async (t) => {
  const metrics = new Metrics();
  const holder = new PolicyHolder({ report: policyReport(silentLogger(), metrics) });
  const value = async (name: string) =>
    (await metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value;
  const seen: number[] = [];
  holder.onChange((_, generation) => seen.push(generation));
  t.is(holder.current(), undefined);

  holder.reject([{ source: "p", line: 1, column: 1, path: "mode", message: "bad" }]);
  t.is(holder.current(), undefined);
  t.is(await value("digestpin_policy_valid"), 0);

  const first = assemblePolicy(policy(`pins:\n  a:1: ${digest("1")}\n`), []);
  if (!first.ok) throw new Error("invalid fixture");
  holder.accept(first.policy);
  t.is(holder.current(), first.policy);
  t.deepEqual(holder.issues, []);
  t.is(await value("digestpin_policy_valid"), 1);
  t.is(await value("digestpin_policy_pins"), 1);
  t.is(await value("digestpin_policy_generation"), 1);

  holder.reject([{ source: "p", line: 2, column: 1, path: "pins", message: "bad" }]);
  t.is(holder.current(), first.policy);
  t.is(holder.generation, 1);
  t.is(holder.issues.length, 1);
  t.is(await value("digestpin_policy_load_errors_total"), 2);
  t.deepEqual(seen, [1]);
});
