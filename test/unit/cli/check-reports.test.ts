import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { parse } from "yaml";
import { runCli } from "../../helpers/run-cli.ts";

// `digestpin check -o json|yaml|name|junit|sarif` and --fail-on-unreachable, on decisions that
// need no registry, and on one whose registry (127.0.0.1:1) refuses connections.

const d = (c: string) => `sha256:${c.repeat(64)}`;
const POLICY = `apiVersion: digestpin.dev/v1alpha1
kind: Policy
registryUnavailable: use-pin
registries: [{host: docker.io}, {host: "127.0.0.1:1"}]
pins:
  127.0.0.1:1/team/app:1: ${d("a")}
`;
const MANIFEST = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      containers:
        - name: app
          image: 127.0.0.1:1/team/app:1
        - name: side
          image: busybox:1.36
      initContainers:
        - name: setup
          image: "quay.io/x/y:1"
`;

async function workspace(t: { teardown(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), "digestpin-check-reports-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "policy.yaml"), POLICY);
  await writeFile(join(dir, "web.yaml"), MANIFEST);
  return dir;
}

const check = (dir: string, ...args: string[]) =>
  runCli(
    [
      "check",
      "-f",
      join(dir, "web.yaml"),
      "--policy",
      join(dir, "policy.yaml"),
      "--insecure-registry",
      "127.0.0.1:1",
      "--timeout",
      "5s",
      ...args,
    ],
    { HOME: dir },
  );

interface SarifLog {
  $schema: string;
  version: string;
  runs: {
    tool: { driver: { name: string; version: string; rules: { id: string }[] } };
    results: {
      ruleId: string;
      ruleIndex: number;
      level: string;
      message: { text: string };
      locations: {
        physicalLocation: {
          artifactLocation: { uri: string };
          region: { startLine: number; startColumn: number };
        };
      }[];
    }[];
  }[];
}

test("-o sarif: SARIF 2.1.0, a rule per reason, each result at the image's line", async (t) => {
  const dir = await workspace(t);
  const run = await check(dir, "-o", "sarif");
  t.is(run.status, 1, run.stderr);
  const log = JSON.parse(run.stdout) as SarifLog;
  t.is(log.$schema, "https://json.schemastore.org/sarif-2.1.0.json");
  t.is(log.version, "2.1.0");
  const [only] = log.runs;
  t.is(log.runs.length, 1);
  t.is(only?.tool.driver.name, "digestpin");
  t.deepEqual(
    only?.tool.driver.rules.map((r) => r.id),
    ["registry-not-allowed", "registry-unavailable", "unpinned"],
  );
  const results = (only?.results ?? []).map((r) => [
    r.ruleId,
    only?.tool.driver.rules[r.ruleIndex]?.id,
    r.level,
    r.locations[0]?.physicalLocation.artifactLocation.uri,
    r.locations[0]?.physicalLocation.region.startLine,
    r.locations[0]?.physicalLocation.region.startColumn,
  ]);
  const uri = join(dir, "web.yaml");
  t.deepEqual(results, [
    ["registry-unavailable", "registry-unavailable", "note", uri, 9, 18],
    ["unpinned", "unpinned", "error", uri, 11, 18],
    ["registry-not-allowed", "registry-not-allowed", "error", uri, 14, 18],
  ]);
  t.regex(only?.results[1]?.message.text ?? "", /busybox:1\.36 is not pinned/);
});

test("--fail-on-unreachable: an image admitted at its pin without asking fails the check", async (t) => {
  const dir = await workspace(t);
  await writeFile(join(dir, "web.yaml"), MANIFEST.split("        - name: side")[0] ?? "");
  const lenient = await check(dir);
  t.is(lenient.status, 0, lenient.stderr);
  t.regex(lenient.stderr, /1 without an answer from their registry/);
  const strict = await check(dir, "--fail-on-unreachable", "-o", "sarif");
  t.is(strict.status, 1, strict.stderr);
  const log = JSON.parse(strict.stdout) as SarifLog;
  t.deepEqual(
    log.runs[0]?.results.map((r) => [r.ruleId, r.level]),
    [["registry-unavailable", "error"]],
  );
  const table = await check(dir, "--fail-on-unreachable");
  t.is(table.status, 1);
  t.regex(table.stdout, /web\.yaml:9 Deployment\/shop\/web containers\[app\]: /);
});

test("-o junit: a test case per image, failures typed by reason, with file and line", async (t) => {
  const dir = await workspace(t);
  const run = await check(dir, "-o", "junit");
  t.is(run.status, 1, run.stderr);
  t.true(run.stdout.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n'));
  t.regex(run.stdout, /<testsuites name="digestpin check" tests="3" failures="2" errors="0">/);
  const cases = [...run.stdout.matchAll(/<testcase [^>]*line="(\d+)"[^/]*?(\/?)>/g)];
  t.deepEqual(
    cases.map((m) => m[1]),
    ["9", "11", "14"],
  );
  t.regex(run.stdout, /<failure type="unpinned" message="image &quot;busybox:1.36&quot;/);
  t.regex(run.stdout, /<failure type="registry-not-allowed" /);
  t.regex(run.stdout, /<system-out>[^<]*web\.yaml:9: /);
});

test("-o json|yaml|name and --no-headers print the findings as a list", async (t) => {
  const dir = await workspace(t);
  const json = await check(dir, "-o", "json");
  t.is(json.status, 1);
  const listed = JSON.parse(json.stdout) as { line: number; reason: string; action: string }[];
  t.deepEqual(
    listed.map((f) => [f.line, f.action, f.reason]),
    [
      [9, "mutate", "registry-unavailable"],
      [11, "deny", "unpinned"],
      [14, "deny", "registry-not-allowed"],
    ],
  );
  const yaml = await check(dir, "-o", "yaml");
  t.deepEqual(parse(yaml.stdout), listed);
  const names = await check(dir, "-o", "name");
  t.deepEqual(names.lines, [`127.0.0.1:1/team/app:1@${d("a")}`, "busybox:1.36", "quay.io/x/y:1"]);
  const bare = await check(dir, "--no-headers");
  t.false(bare.stdout.startsWith("FILE"), bare.stdout);
  t.true(bare.lines[0]?.startsWith(`${join(dir, "web.yaml")}:9 `), bare.lines[0]);
  const bad = await check(dir, "-o", "xml");
  t.is(bad.status, 2);
  t.regex(bad.stderr, /-o xml: give table, json, yaml, name, junit or sarif/);
});
