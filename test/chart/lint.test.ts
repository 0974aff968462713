import test from "ava";
import { createHelm } from "../harness/helm.ts";
import { CHART_DIR, SCENARIOS, scenarioFile } from "./chart.ts";

test("helm lint --strict passes with the default values", async (t) => {
  const helm = await createHelm(t);
  const linted = await helm(["lint", "--strict", CHART_DIR]);
  t.is(linted.exitCode, 0, linted.stdout + linted.stderr);
  t.regex(linted.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  t.notRegex(linted.stdout, /\[(WARNING|ERROR)\]/);
});

test("every ci/ scenario passes helm lint --strict", async (t) => {
  t.true(SCENARIOS.length >= 6, `scenarios: ${SCENARIOS.join(", ")}`);
  const helm = await createHelm(t);
  for (const scenario of SCENARIOS) {
    const linted = await helm([
      "lint",
      "--strict",
      CHART_DIR,
      `--values=${scenarioFile(scenario)}`,
    ]);
    t.is(linted.exitCode, 0, `${scenario}:\n${linted.stdout}${linted.stderr}`);
    t.notRegex(linted.stdout, /\[(WARNING|ERROR)\]/, scenario);
  }
});

test("values.schema.json rejects what digestpin could not run with, naming the value", async (t) => {
  const helm = await createHelm(t);
  const cases: [string[], RegExp][] = [
    [["--set=webhooks.failurePolicy=Nope"], /\/webhooks\/failurePolicy': value must be one of/],
    [["--set=webhooks.timeoutSeconds=31"], /\/webhooks\/timeoutSeconds/],
    [["--set=certificates.mode=manual"], /\/certificates\/mode/],
    [["--set=policy.document.mode=strict"], /\/policy\/document\/mode/],
    [["--set=policy.document.kind=Pins"], /\/policy\/document\/kind/],
    [["--set=image.digest=latest"], /\/image\/digest/],
    [["--set=podAntiAffinity=always"], /\/podAntiAffinity/],
    [["--set=replicas=3"], /additional properties 'replicas' not allowed/],
  ];
  for (const [args, message] of cases) {
    const rendered = await helm(["template", "digestpin", CHART_DIR, ...args]);
    t.is(rendered.exitCode, 1, args.join(" "));
    t.regex(rendered.stderr, message, args.join(" "));
  }
});
