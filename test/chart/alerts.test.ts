/**
 * The chart's PrometheusRule: `promtool check rules` and `promtool test rules` (cases in
 * fixtures/alerts.promtool.yaml) on the rules exactly as the chart renders them, the values that
 * shape them, the metrics they read and their runbooks in docs/alerts.md.
 */
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test, { type ExecutionContext } from "ava";
import { parse, stringify } from "yaml";
import { createHelm } from "../harness/helm.ts";
import { tempDir } from "../harness/lifecycle.ts";
import { runCommand } from "../harness/run-command.ts";
import { toolPath } from "../harness/tools.ts";
import { CHART_DIR, renderChart, scenarioFile, the } from "./chart.ts";
import { DIGESTPIN_METRICS, metricNames } from "./promql.ts";

// The namespace the promtool cases' series carry.
const NS = "dp-alerts";
const SCENARIO = scenarioFile("alerts-values.yaml");
const CASES = fileURLToPath(new URL("fixtures/alerts.promtool.yaml", import.meta.url));
const RUNBOOKS = fileURLToPath(new URL("../../docs/alerts.md", import.meta.url));

const DEFAULT_ALERTS = [
  "DigestpinTagMovedUnapproved",
  "DigestpinDriftScanFailing",
  "DigestpinWebhookNoReadyEndpoints",
  "DigestpinCertificateExpiresSoon",
  "DigestpinPolicyInvalid",
];
const ALL_ALERTS = [...DEFAULT_ALERTS, "DigestpinServiceNoReadyEndpoints"].sort();

interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}
interface RuleFile {
  readonly groups: readonly { readonly name: string; readonly rules: readonly Rule[] }[];
}

const renderRules = async (t: ExecutionContext, values: string[] = [], set: string[] = []) => {
  const { objects } = await renderChart(await createHelm(t), { namespace: NS, values, set });
  return the(objects, "PrometheusRule").spec as RuleFile;
};
const rulesOf = (file: RuleFile) => file.groups.flatMap((group) => group.rules);

/** A directory holding `rules.yaml` and a copy of the promtool cases (which load it). */
async function promtoolDir(t: ExecutionContext, rules: RuleFile): Promise<string> {
  const dir = await tempDir(t, "alerts");
  await writeFile(join(dir, "rules.yaml"), stringify(rules));
  await copyFile(CASES, join(dir, "alerts.promtool.yaml"));
  return dir;
}

const promtool = async (args: string[], cwd: string) =>
  runCommand(await toolPath("promtool"), args, { cwd });

test("promtool check rules (every lint fatal) accepts the rules as rendered, by default and with every alert on", async (t) => {
  const cases: [string[], string[], string[]][] = [
    [[], ["prometheusRule.enabled=true"], DEFAULT_ALERTS],
    [[SCENARIO], [], ALL_ALERTS],
  ];
  for (const [values, set, alerts] of cases) {
    const rules = await renderRules(t, values, set);
    t.deepEqual(
      rulesOf(rules)
        .map((rule) => rule.alert)
        .sort(),
      [...alerts].sort(),
    );
    const dir = await promtoolDir(t, rules);
    const checked = await promtool(
      ["check", "rules", "--lint=all", "--lint-fatal", "rules.yaml"],
      dir,
    );
    t.is(checked.exitCode, 0, checked.stdout + checked.stderr);
    t.regex(checked.stdout, new RegExp(`SUCCESS: ${alerts.length} rules found`));
  }
});

test("promtool test rules: each alert fires when it should and not when it should not", async (t) => {
  const rules = await renderRules(t, [SCENARIO]);
  const tested = await promtool(
    ["test", "rules", "alerts.promtool.yaml"],
    await promtoolDir(t, rules),
  );
  t.is(tested.exitCode, 0, tested.stdout + tested.stderr);
  t.regex(tested.stdout, /SUCCESS/);

  // Every alert has cases where it fires and cases where it must not.
  const file = parse(await readFile(CASES, "utf8")) as {
    tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
  };
  const checks = file.tests.flatMap((group) => group.alert_rule_test);
  for (const alert of ALL_ALERTS) {
    const mine = checks.filter((check) => check.alertname === alert);
    t.true(
      mine.some((check) => check.exp_alerts.length > 0),
      `${alert} never fires`,
    );
    t.true(
      mine.some((check) => check.exp_alerts.length === 0),
      `${alert} never stays silent`,
    );
  }
});

test("the promtool cases follow the values: other thresholds or durations fail them, naming the alert", async (t) => {
  const changes: [string, string][] = [
    ["DigestpinTagMovedUnapproved.hours=25", "DigestpinTagMovedUnapproved"],
    ["DigestpinDriftScanFailing.minutes=90", "DigestpinDriftScanFailing"],
    ["DigestpinWebhookNoReadyEndpoints.for=10m", "DigestpinWebhookNoReadyEndpoints"],
    ["DigestpinCertificateExpiresSoon.days=3", "DigestpinCertificateExpiresSoon"],
    ["DigestpinPolicyInvalid.for=15m", "DigestpinPolicyInvalid"],
  ];
  for (const [change, alert] of changes) {
    const rules = await renderRules(t, [SCENARIO], [`prometheusRule.alerts.${change}`]);
    const tested = await promtool(
      ["test", "rules", "alerts.promtool.yaml"],
      await promtoolDir(t, rules),
    );
    t.is(tested.exitCode, 1, change);
    const named = [...(tested.stdout + tested.stderr).matchAll(/alertname: (\w+)/g)].map(
      (m) => m[1],
    );
    t.deepEqual([...new Set(named)], [alert], change);
  }
});

test("the hand-over cases need the rules' hand-over logic: naive expressions fail exactly them", async (t) => {
  const selector = `{job="digestpin",namespace="${NS}"}`;
  const naive: Record<string, string> = {
    DigestpinTagMovedUnapproved: `max by (namespace, job) (digestpin_pins_moved_oldest_seconds${selector}) > 24 * 3600`,
    DigestpinDriftScanFailing: `time() - max by (namespace, job) (digestpin_drift_scan_last_success_timestamp_seconds${selector}) > 3600`,
  };
  const rendered = await renderRules(t, [SCENARIO]);
  const rules: RuleFile = {
    groups: rendered.groups.map((group) => ({
      ...group,
      rules: group.rules.map((rule) => ({ ...rule, expr: naive[rule.alert] ?? rule.expr })),
    })),
  };
  const tested = await promtool(
    ["test", "rules", "alerts.promtool.yaml"],
    await promtoolDir(t, rules),
  );
  t.is(tested.exitCode, 1);
  const output = tested.stdout + tested.stderr;
  const failed = new Set([...output.matchAll(/^ {4}name: (.*),$/gm)].map((m) => m[1]));
  t.deepEqual([...failed].sort(), [
    "a fresh install whose scans never succeed (0 exported) fires 60 minutes after the scanner started",
    "a moved tag fires 24 hours on; a Lease hand-over keeps it firing; an approval resolves it",
    "a moved tag stops firing when no replica exports the age for longer than the grace",
    "a new leader that never succeeds fires 60 minutes after the old leader's last success",
  ]);
});

test("the values shape the rules: selector, thresholds, for, severity, labels, runbook URLs, alerts left out", async (t) => {
  const defaults = rulesOf(await renderRules(t, [], ["prometheusRule.enabled=true"]));
  for (const rule of defaults) {
    t.is(
      rule.annotations.runbook_url,
      `https://github.com/digestpin/digestpin/blob/main/docs/alerts.md#alert-${rule.alert.toLowerCase()}`,
    );
    t.deepEqual(Object.keys(rule.labels), ["severity"]);
    // Every selector of digestpin's series (and of `up`) is the ServiceMonitor's job and namespace.
    const selectors = [...rule.expr.matchAll(/\b(?:digestpin_\w+|up)\{([^}]*)\}/g)].map(
      (m) => m[1],
    );
    t.true(selectors.length > 0, rule.alert);
    t.deepEqual(new Set(selectors), new Set([`job="digestpin",namespace="${NS}"`]), rule.alert);
  }

  const rules = rulesOf(
    await renderRules(
      t,
      [],
      [
        "prometheusRule.enabled=true",
        'prometheusRule.selector=job="pods"\\,app="digestpin"',
        "prometheusRule.additionalAlertLabels.team=platform",
        "prometheusRule.runbookBaseUrl=https://wiki.example/digestpin",
        "prometheusRule.leaderHandoverGrace=30m",
        "prometheusRule.alerts.DigestpinTagMovedUnapproved.hours=8",
        "prometheusRule.alerts.DigestpinTagMovedUnapproved.severity=page",
        "prometheusRule.alerts.DigestpinCertificateExpiresSoon.for=3h",
        "prometheusRule.alerts.DigestpinPolicyInvalid.enabled=false",
        "prometheusRule.alerts.DigestpinServiceNoReadyEndpoints.enabled=true",
      ],
    ),
  );
  const byName = new Map(rules.map((rule) => [rule.alert, rule]));
  t.false(byName.has("DigestpinPolicyInvalid"));
  const moved = byName.get("DigestpinTagMovedUnapproved")!;
  t.regex(moved.expr, /\) > 8 \* 3600\n?$/);
  t.regex(moved.expr, /digestpin_pins_moved_oldest_seconds\{job="pods",app="digestpin"\}\[30m\]/);
  t.deepEqual(moved.labels, { severity: "page", team: "platform" });
  t.is(
    moved.annotations.runbook_url,
    "https://wiki.example/digestpin#alert-digestpintagmovedunapproved",
  );
  t.is(byName.get("DigestpinCertificateExpiresSoon")!.for, "3h");
  t.regex(
    byName.get("DigestpinServiceNoReadyEndpoints")!.expr,
    new RegExp(`kube_endpoint_info\\{namespace="${NS}", endpoint="digestpin"\\}`),
  );
});

test("an alert without settings fails the rendering, naming the setting; the schema checks the settings", async (t) => {
  const helm = await createHelm(t);
  const render = (...set: string[]) =>
    helm([
      "template",
      "digestpin",
      CHART_DIR,
      "--set=prometheusRule.enabled=true",
      ...set.map((s) => `--set=${s}`),
    ]);
  const missing = await render("prometheusRule.alerts.DigestpinPolicyInvalid=null");
  t.is(missing.exitCode, 1);
  t.regex(
    missing.stderr,
    /files\/alerts\.yaml: \$\{DigestpinPolicyInvalid\.for\} has no value in prometheusRule/,
  );
  const cases: [string, RegExp][] = [
    [
      "prometheusRule.alerts.DigestpinTagMovedUnapproved.hours=0",
      /DigestpinTagMovedUnapproved\/hours/,
    ],
    ["prometheusRule.alerts.DigestpinTagMovedUnapproved.hours=null", /missing property 'hours'/],
    [
      "prometheusRule.alerts.DigestpinDriftScanFailing.minutes=1.5",
      /DigestpinDriftScanFailing\/minutes/,
    ],
    ["prometheusRule.alerts.DigestpinPolicyInvalid.for=5 minutes", /DigestpinPolicyInvalid\/for/],
    [
      "prometheusRule.alerts.DigestpinNope.enabled=true",
      /additional properties 'DigestpinNope' not allowed/,
    ],
    ["prometheusRule.leaderHandoverGrace=0", /\/prometheusRule\/leaderHandoverGrace/],
    ["prometheusRule.selector={job=x}", /\/prometheusRule\/selector/],
    ["grafanaDashboard.label=a b", /\/grafanaDashboard\/label/],
  ];
  for (const [set, message] of cases) {
    const rendered = await render(set);
    t.is(rendered.exitCode, 1, set);
    t.regex(rendered.stderr, message, set);
  }
});

test("the rules read only digestpin's metrics, `up` and kube-state-metrics' Endpoints", async (t) => {
  const allowed = new Set<string>([
    ...DIGESTPIN_METRICS,
    "up",
    "kube_endpoint_info",
    "kube_endpoint_address",
    "kube_endpoint_address_available",
  ]);
  for (const rule of rulesOf(await renderRules(t, [SCENARIO]))) {
    const names = metricNames(rule.expr);
    t.true(names.length > 0, rule.alert);
    t.deepEqual(
      names.filter((name) => !allowed.has(name)),
      [],
      rule.alert,
    );
  }
});

test("docs/alerts.md has a runbook for every alert, at the anchor its runbook_url names", async (t) => {
  const text = await readFile(RUNBOOKS, "utf8");
  const source = parse(await readFile(join(CHART_DIR, "files", "alerts.yaml"), "utf8")) as RuleFile;
  t.deepEqual(
    rulesOf(source)
      .map((rule) => rule.alert)
      .sort(),
    ALL_ALERTS,
  );
  for (const alert of ALL_ALERTS) {
    t.regex(text, new RegExp(`<a id="alert-${alert.toLowerCase()}"></a>\\n\\n## ${alert}\\n`));
    for (const part of ["**Meaning.**", "**Expression.**", "**What to do.**"]) {
      const section = text.split(`## ${alert}\n`)[1]!.split("\n## ")[0]!;
      t.true(section.includes(part), `${alert}: ${part}`);
    }
  }
});
