import { policyReport } from "../../../src/webhook/policy-report.ts";
import { silentLogger } from "../../../src/observability/index.ts";
import { rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { FilePolicySource } from "../../../src/policy/sources/file-source.ts";
import { Metrics } from "../../../src/observability/metrics.ts";
import { tempDir, type Teardown } from "../../harness/testbed.ts";
import { digest, PINS_HEADER, pinsYaml, POLICY_HEADER } from "./documents.ts";
import { waitFor } from "../../harness/wait.ts";

// The file policy source on a real file system: edits in place, atomic renames, bad edits.

const KEY = "docker.io/library/busybox:1.36";
const policyText = (d: string, extra = "") => POLICY_HEADER + extra + pinsYaml({ [KEY]: d });

async function startSource(t: Teardown, policyFile: string, pinsFiles: string[] = []) {
  const metrics = new Metrics();
  const source = new FilePolicySource({
    policyFile,
    pinsFiles,
    report: policyReport(silentLogger(), metrics),
    debounceMs: 20,
    pollMs: 250,
  });
  t.teardown(() => source.stop());
  await source.start();
  return { source, metrics };
}

test("an edit in place takes effect; so does an atomic rename over the file", async (t) => {
  const dir = await tempDir(t, "file-source");
  const file = join(dir, "policy.yaml");
  await writeFile(file, policyText(digest("a")));
  const { source } = await startSource(t, file);
  t.is(source.current()?.pins.get(KEY)?.digest, digest("a"));
  t.is(source.generation, 1);

  let edited = Date.now();
  await writeFile(file, policyText(digest("b")));
  await waitFor("the edit", () => source.current()?.pins.get(KEY)?.digest === digest("b"));
  t.log(`edit in place to effect: ${Date.now() - edited} ms`);

  edited = Date.now();
  await writeFile(join(dir, ".policy.yaml.tmp"), policyText(digest("c")));
  await rename(join(dir, ".policy.yaml.tmp"), file);
  await waitFor("the rename", () => source.current()?.pins.get(KEY)?.digest === digest("c"));
  t.log(`atomic rename to effect: ${Date.now() - edited} ms`);
  t.true(Date.now() - edited < 2000);
  t.is(source.generation, 3);

  await writeFile(file, policyText(digest("c")));
  await new Promise((resolve) => setTimeout(resolve, 400));
  t.is(source.generation, 3, "rewriting the same text is no new generation");
});

test("an invalid edit keeps the last good policy, with its issues and metrics", async (t) => {
  const dir = await tempDir(t, "file-invalid");
  const file = join(dir, "policy.yaml");
  await writeFile(file, policyText(digest("a")));
  const { source, metrics } = await startSource(t, file);
  const good = source.current();
  await writeFile(file, policyText("sha256:abc", "mode: strict\n"));
  await waitFor("the rejection", () => source.issues.length === 2);
  t.is(source.current(), good);
  t.deepEqual(
    source.issues.map((issue) => `${issue.line}:${issue.column} ${issue.path}`),
    ["3:7 mode", `5:${3 + KEY.length + 2} pins["${KEY}"]`],
  );
  const valid = await metrics.registry.getSingleMetric("digestpin_policy_valid")?.get();
  t.is(valid?.values[0]?.value, 0);

  await rm(file);
  await waitFor("the missing file", () =>
    source.issues.some((i) => i.message.includes("cannot read")),
  );
  t.is(source.current(), good);
  await writeFile(file, policyText(digest("d")));
  await waitFor("the restored file", () => source.generation === 2);
});

test("pins files are merged; a conflict between files is rejected naming both", async (t) => {
  const dir = await tempDir(t, "file-pins");
  const file = join(dir, "policy.yaml");
  const more = join(dir, "more-pins.yaml");
  await writeFile(file, policyText(digest("a")));
  await writeFile(more, PINS_HEADER + pinsYaml({ "app:1": digest("1") }));
  const { source } = await startSource(t, file, [more]);
  t.is(source.current()?.pins.size, 2);
  await writeFile(more, PINS_HEADER + pinsYaml({ "busybox:1.36": digest("b") }));
  await waitFor("the conflict", () => source.issues.length > 0);
  t.is(source.issues[0]?.source, more);
  t.true(source.issues[0]?.message.includes(`${file}:4:3`));
  t.is(source.current()?.pins.size, 2);
});

test("a large pins file comes back from the worker as its differences: same pins, and a conflict names today's lines", async (t) => {
  const dir = await tempDir(t, "file-delta");
  const policy = join(dir, "policy.yaml");
  const pins = join(dir, "pins.yaml");
  const many = (count: number, first = 0): Record<string, string> =>
    Object.fromEntries(
      Array.from({ length: count }, (_, i) => [
        `registry.example/team/app${first + i}:v1`,
        `sha256:${(first + i).toString(16).padStart(64, "0")}`,
      ]),
    );
  const base = many(1000);
  await writeFile(policy, policyText(digest("a")));
  await writeFile(pins, PINS_HEADER + pinsYaml(base));
  const { source } = await startSource(t, policy, [pins]);
  t.is(source.current()?.pins.size, 1001);

  // One pin added at the top (every other pin moves down a line), one changed, one removed.
  const edited = { ...many(1, 5000), ...base };
  edited["registry.example/team/app7:v1"] = digest("b");
  delete edited["registry.example/team/app9:v1"];
  await writeFile(pins, PINS_HEADER + pinsYaml(edited));
  await waitFor("the edit", () => source.generation === 2);
  const now = source.current();
  t.is(now?.pins.size, 1001);
  t.is(
    now?.pins.get("registry.example/team/app5000:v1")?.digest,
    edited["registry.example/team/app5000:v1"],
  );
  t.is(now?.pins.get("registry.example/team/app7:v1")?.digest, digest("b"));
  t.is(now?.pins.get("registry.example/team/app9:v1"), undefined);
  t.deepEqual([...(now?.pinChanges ?? [])].sort(), [
    "registry.example/team/app5000:v1",
    "registry.example/team/app7:v1",
    "registry.example/team/app9:v1",
  ]);

  // The policy now pins app500 to another digest: the issue names the pins file's current line.
  await writeFile(
    join(dir, ".policy.yaml.tmp"),
    POLICY_HEADER +
      pinsYaml({ [KEY]: digest("a"), "registry.example/team/app500:v1": digest("c") }),
  );
  await rename(join(dir, ".policy.yaml.tmp"), policy);
  await waitFor("the rejection", () => source.issues.some((issue) => issue.source === pins));
  const lines = (PINS_HEADER + pinsYaml(edited)).split("\n");
  const line = lines.findIndex((text) => text.includes("registry.example/team/app500:v1")) + 1;
  t.true(
    source.issues.some((issue) => issue.source === pins && issue.line === line),
    JSON.stringify(source.issues),
  );
  t.is(source.generation, 2, "the policy in force stays");
});

test("a large pins file read by the worker: the same bytes again are no new generation, a missing file keeps the policy", async (t) => {
  const dir = await tempDir(t, "file-worker-read");
  const policy = join(dir, "policy.yaml");
  const pins = join(dir, "pins.yaml");
  const many = Object.fromEntries(
    Array.from({ length: 1000 }, (_, i) => [
      `registry.example/team/app${i}:v1`,
      `sha256:${i.toString(16).padStart(64, "0")}`,
    ]),
  );
  const text = PINS_HEADER + pinsYaml(many);
  await writeFile(policy, policyText(digest("a")));
  await writeFile(pins, text);
  const { source } = await startSource(t, policy, [pins]);
  t.is(source.generation, 1);
  await writeFile(pins, text);
  await source.reload();
  t.is(source.generation, 1, "rewriting the same bytes is no new generation");
  await rm(pins);
  await source.reload();
  t.true(source.issues.some((issue) => issue.source === pins));
  t.is(source.current()?.pins.size, 1001, "the policy in force stays");
  await source.reload();
  t.is(source.generation, 1);
  await writeFile(
    pins,
    PINS_HEADER + pinsYaml({ ...many, "registry.example/new:v1": digest("e") }),
  );
  await waitFor("the file back", () => source.current()?.pins.size === 1002);
  t.deepEqual([...(source.current()?.pinChanges ?? [])], ["registry.example/new:v1"]);
  t.is(source.issues.length, 0);
});
