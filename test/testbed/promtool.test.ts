import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { tempDir } from "../harness/lifecycle.ts";
import { runCommand } from "../harness/run-command.ts";
import { pinnedVersion } from "../harness/tool-versions.ts";
import { toolPath } from "../harness/tools.ts";

test("promtool is the pinned version (Prometheus 3.x is the Go module v0.3xx.y)", async (t) => {
  const [, minor, patch] = (await pinnedVersion("promtool")).split(".").map(Number);
  const version = await runCommand(await toolPath("promtool"), ["--version"]);
  t.is(version.exitCode, 0, version.stderr);
  t.regex(
    version.stdout,
    new RegExp(`^promtool, version ${Math.floor(minor! / 100)}\\.${minor! % 100}\\.${patch}\\b`),
  );
});

test("promtool test rules evaluates an alert against series, and reports a case that fails", async (t) => {
  const dir = await tempDir(t, "promtool");
  await writeFile(
    join(dir, "rules.yaml"),
    "groups:\n  - name: g\n    rules:\n      - alert: High\n        expr: x > 1\n        for: 2m\n",
  );
  const cases = (firesAt: string) => `rule_files: [rules.yaml]
tests:
  - interval: 1m
    input_series:
      - series: x{pod="a"}
        values: 0 0 5x10
    alert_rule_test:
      - eval_time: ${firesAt}
        alertname: High
        exp_alerts: [{ exp_labels: { pod: a } }]
`;
  await writeFile(join(dir, "pass.yaml"), cases("4m"));
  await writeFile(join(dir, "fail.yaml"), cases("3m")); // still pending at 3m
  const promtool = await toolPath("promtool");
  const passed = await runCommand(promtool, ["test", "rules", "pass.yaml"], { cwd: dir });
  t.is(passed.exitCode, 0, passed.stdout + passed.stderr);
  const failed = await runCommand(promtool, ["test", "rules", "fail.yaml"], { cwd: dir });
  t.is(failed.exitCode, 1);
  t.regex(failed.stdout + failed.stderr, /alertname: High, time: 3m/);
});
