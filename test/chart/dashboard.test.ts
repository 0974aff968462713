/**
 * The Grafana dashboard: the opt-in ConfigMap the Grafana sidecar loads, and the dashboard JSON
 * itself (its layout, its queries parsed by promtool, the metrics they read).
 */
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { stringify } from "yaml";
import { Metrics } from "../../src/observability/metrics.ts";
import { createHelm } from "../harness/helm.ts";
import { tempDir } from "../harness/lifecycle.ts";
import { runCommand } from "../harness/run-command.ts";
import { toolPath } from "../harness/tools.ts";
import { CHART_DIR, renderChart, scenarioFile, the } from "./chart.ts";
import { DIGESTPIN_METRICS, metricNames } from "./promql.ts";

const NS = "dp-dashboard";
const text = readFileSync(join(CHART_DIR, "files", "dashboard.json"), "utf8");

interface Target {
  readonly expr: string;
  readonly refId: string;
}
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: {
    readonly x: number;
    readonly y: number;
    readonly w: number;
    readonly h: number;
  };
  readonly datasource?: { readonly uid: string };
  readonly targets?: readonly Target[];
}
interface Dashboard {
  readonly uid: string;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly { name: string; definition?: string }[] };
}
const dashboard = JSON.parse(text) as Dashboard;
const targets = dashboard.panels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ panel, ...target })),
);

const render = async (t: ExecutionContext, values: string[], set: string[] = []) =>
  (await renderChart(await createHelm(t), { namespace: NS, values, set })).objects;

test("the dashboard ConfigMap is opt-in, labelled for the Grafana sidecar, and holds the file's JSON", async (t) => {
  t.false((await render(t, [])).some((object) => object.metadata.name === "digestpin-dashboard"));

  const configMap = the(
    await render(t, [scenarioFile("alerts-values.yaml")]),
    "ConfigMap",
    "digestpin-dashboard",
  );
  t.is(configMap.metadata.namespace, NS);
  t.like(configMap.metadata.labels, {
    grafana_dashboard: "1",
    "app.kubernetes.io/name": "digestpin",
  });
  t.deepEqual(configMap.metadata.annotations, { grafana_folder: "digestpin" });
  t.deepEqual(Object.keys(configMap.data), ["digestpin.json"]);
  t.deepEqual(JSON.parse(configMap.data["digestpin.json"]), dashboard);

  const moved = the(
    await render(
      t,
      [],
      [
        "grafanaDashboard.enabled=true",
        "grafanaDashboard.namespace=monitoring",
        "grafanaDashboard.label=dashboards",
        "grafanaDashboard.labelValue=digestpin",
        "grafanaDashboard.folderAnnotation=k8s-sidecar-target-directory",
        "grafanaDashboard.folder=/tmp/dashboards/security",
        "grafanaDashboard.annotations.owner=platform",
      ],
    ),
    "ConfigMap",
    "digestpin-dashboard",
  );
  t.is(moved.metadata.namespace, "monitoring");
  t.like(moved.metadata.labels, { dashboards: "digestpin" });
  t.false(Object.hasOwn(moved.metadata.labels as object, "grafana_dashboard"));
  t.deepEqual(moved.metadata.annotations, {
    owner: "platform",
    "k8s-sidecar-target-directory": "/tmp/dashboards/security",
  });
});

test("the dashboard: unique panel ids, every panel on the grid without overlap, the rows the issue asks for", (t) => {
  t.is(dashboard.uid, "digestpin");
  const ids = dashboard.panels.map((panel) => panel.id);
  t.is(new Set(ids).size, ids.length, "panel ids are unique");
  const cells = new Map<string, string>();
  for (const panel of dashboard.panels) {
    const { x, y, w, h } = panel.gridPos;
    t.true(x >= 0 && w > 0 && x + w <= 24 && h > 0, panel.title);
    for (let row = y; row < y + h; row += 1) {
      for (let column = x; column < x + w; column += 1) {
        const other = cells.get(`${row},${column}`);
        t.is(other, undefined, `${panel.title} overlaps ${other ?? ""}`);
        cells.set(`${row},${column}`, panel.title);
      }
    }
  }
  t.deepEqual(
    dashboard.panels.filter((panel) => panel.type === "row").map((panel) => panel.title),
    [
      "Admission",
      "Latency",
      "Image decisions",
      "Drift at admission",
      "Pins and moved tags",
      "Drift scan",
      "Registry",
      "Policy",
      "Certificate",
      "Replicas",
    ],
  );
  for (const panel of dashboard.panels.filter((panel) => panel.type !== "row")) {
    t.is(panel.datasource?.uid, "${datasource}", panel.title);
    t.true((panel.targets ?? []).length > 0, panel.title);
  }
  t.deepEqual(
    dashboard.templating.list.map((variable) => variable.name),
    ["datasource", "namespace", "job"],
  );
});

test("every query parses (promtool check rules) and selects digestpin's series of the chosen namespace and job", async (t) => {
  const grafana: [RegExp, string][] = [
    [/\$__rate_interval/g, "5m"],
    [/\$__range/g, "6h"],
  ];
  const exprs = targets.map(({ expr }) =>
    grafana.reduce((e, [from, to]) => e.replace(from, to), expr),
  );
  const rules = {
    groups: [
      {
        name: "dashboard",
        rules: exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr })),
      },
    ],
  };
  const dir = await tempDir(t, "dashboard");
  await writeFile(join(dir, "queries.yaml"), stringify(rules));
  const checked = await runCommand(await toolPath("promtool"), ["check", "rules", "queries.yaml"], {
    cwd: dir,
  });
  t.is(checked.exitCode, 0, checked.stdout + checked.stderr);
  t.regex(checked.stdout, new RegExp(`SUCCESS: ${exprs.length} rules found`));

  for (const { panel, expr } of targets) {
    const selectors = [...expr.matchAll(/\bdigestpin_\w+(\{[^}]*\})?/g)];
    t.true(selectors.length > 0, panel.title);
    for (const [selector, matchers] of selectors) {
      t.regex(
        matchers ?? "",
        /^\{namespace="\$namespace", job="\$job"/,
        `${panel.title}: ${selector}`,
      );
    }
  }
});

test("the queries use only digestpin's metrics, and show every one of them", async (t) => {
  const variables = dashboard.templating.list.flatMap((variable) =>
    variable.definition === undefined
      ? []
      : [/^label_values\(([^,]+),/.exec(variable.definition)![1]!],
  );
  const used = new Set([...targets.map(({ expr }) => expr), ...variables].flatMap(metricNames));
  t.deepEqual(
    [...used].filter((name) => !(DIGESTPIN_METRICS as readonly string[]).includes(name)),
    [],
  );
  t.deepEqual(
    [...DIGESTPIN_METRICS].filter((name) => !used.has(name)),
    [],
  );

  // Every one is exported: by the drift scan leader (the scan's gauges are the leader's alone).
  const metrics = new Metrics();
  metrics.driftScanRole("leader");
  const exported = new Set(
    (await metrics.registry.getMetricsAsJSON()).map((metric) => metric.name),
  );
  t.deepEqual(
    DIGESTPIN_METRICS.filter((name) => !exported.has(name)),
    [],
  );
});
