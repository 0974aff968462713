import type { KubeConfig } from "@kubernetes/client-node";
import { kubeLibrary } from "../kube/index.ts";
import { stringify } from "yaml";
import {
  buildInventory,
  checkPins,
  nextReport,
  REPORT_CONFIGMAP,
  reportTable,
  ReportStore,
  summarize,
  type DriftReport,
  type Inventory,
  type ScanRegistry,
} from "../drift/index.ts";
import { viewOf } from "../pins/index.ts";
import { DEFAULT_NAMESPACE } from "../policy/index.ts";
import { EXIT_USAGE, readCommandArgs, type CliIO, type Command } from "./command.ts";
import { readFormat } from "./output.ts";
import {
  openKubeConfig,
  openPolicyStore,
  policyTargetOptions,
  policyTargetUsage,
  reportPolicyError,
} from "./policy-target.ts";
import { lookupOptions, lookupUsage, openRegistrySession } from "./registry-access.ts";

const SCAN_CONCURRENCY = 8;

const usage = `Usage: digestpin drift [options]

Lists the pinned tags whose registry digest moved, with how the new image differs and the
workloads that use each tag (and the digests their Pods run), as the webhook's drift scan last
found them: the report ConfigMap ${REPORT_CONFIGMAP} in digestpin's namespace (docs/drift.md).
With --scan, asks the registries now instead (every pin, ${SCAN_CONCURRENCY} at a time), with
the workloads from the cluster when there is one.

Options:
  -o, --output FORMAT         table (default), json or yaml (the report document), or name
                              (the moved tags, one a line)
  --scan                      Resolve every pinned tag now instead of reading the report
${policyTargetUsage}${lookupUsage}  -h, --help                  Show this help.

Exit status: 0 when no pinned tag moved, 1 when one or more moved, 2 when the report could not
be read or made (no scan yet, a usage error) or a tag could not be checked and none moved.
`;

/** `digestpin drift`: the moved tags, from the scan's report or a scan now. */
export const driftCommand: Command = {
  name: "drift",
  summary: "List pinned tags that moved in their registry, and the workloads using them",
  usage,
  run,
};

async function run(args: readonly string[], io: CliIO): Promise<number> {
  const parsed = readCommandArgs(
    driftCommand,
    args,
    {
      output: { type: "string", short: "o" },
      scan: { type: "boolean" },
      ...policyTargetOptions,
      ...lookupOptions,
    },
    io,
  );
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const fail = (message: string, withUsage = false): number => {
    io.stderr(`digestpin drift: ${message}\n${withUsage ? `\n${usage}` : ""}`);
    return EXIT_USAGE;
  };
  if (positionals.length > 0) return fail(`unexpected argument ${positionals[0] ?? ""}`, true);
  const read = readFormat(values.output);
  if ("problem" in read) return fail(read.problem);
  const { format } = read;
  let report: DriftReport;
  try {
    if (values.scan === true) {
      const scanned = await scanNow(values, io);
      if (typeof scanned === "string") return fail(scanned, true);
      report = scanned;
    } else {
      if (values.policy !== undefined || values.pins !== undefined)
        return fail("the report is in the cluster; --policy and --pins need --scan", true);
      const kubeConfig = openKubeConfig(values, io.env);
      if (typeof kubeConfig === "string") return fail(`${kubeConfig}, or --scan`, true);
      const store = new ReportStore(kubeConfig, values.namespace ?? DEFAULT_NAMESPACE);
      const found = await store.read();
      if (found === undefined)
        return fail(
          `no drift report in ${store.where} yet: the webhook's scan has not run (is driftScan.interval 0s?); 'digestpin drift --scan' resolves the pins now`,
        );
      report = found;
    }
  } catch (error) {
    reportPolicyError("drift", error, io);
    return EXIT_USAGE;
  }
  if (format === "json") io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  else if (format === "yaml") io.stdout(stringify(JSON.parse(JSON.stringify(report))));
  else if (format === "name") io.stdout(report.moved.map((entry) => `${entry.tag}\n`).join(""));
  else io.stdout(`${reportTable(report).join("\n")}\n`);
  if (report.moved.length > 0) return 1;
  return report.unreachable.length > 0 ? EXIT_USAGE : 0;
}

type DriftFlags = Parameters<typeof openPolicyStore>[0] & Parameters<typeof openRegistrySession>[0];

/** Every pin resolved now, with the change of the moved ones and the cluster's workloads. */
async function scanNow(values: DriftFlags, io: CliIO): Promise<DriftReport | string> {
  const store = openPolicyStore(values, io.env);
  if (typeof store === "string") return store;
  const session = await openRegistrySession(values, io.env);
  if (typeof session === "string") return session;
  try {
    const pins = [...viewOf(await store.read()).policy.pins.records()].sort((a, b) =>
      a.key < b.key ? -1 : 1,
    );
    const registry: ScanRegistry = {
      resolve: (reference) => session.resolve(reference), // with its rate-limit headers
      tree: (name, digest) =>
        session.facts.tree(name, digest, {
          keychain: session.keychain,
          deadline: session.deadline(),
        }),
      openLayer: (name, layer) => session.openLayer(name, layer),
    };
    const checks = await checkPins(pins, registry, {
      intervalMs: 0,
      concurrency: SCAN_CONCURRENCY,
      signal: new AbortController().signal,
    });
    const next = nextReport(
      undefined,
      checks.map((check) => check.result),
      { now: new Date().toISOString(), by: "digestpin drift --scan" },
    );
    const summarized = await summarize(next.report.moved, registry);
    const kubeConfig = values.policy === undefined ? openKubeConfig(values, io.env) : undefined;
    const inventory =
      kubeConfig === undefined || typeof kubeConfig === "string"
        ? undefined
        : await listInventory(kubeConfig).catch((error: unknown) => {
            io.stderr(
              `digestpin drift: the workloads could not be listed (${(error as Error).message}); the report names none\n`,
            );
            return undefined;
          });
    return {
      ...next.report,
      moved: summarized.map((entry) => ({
        ...entry,
        workloads: inventory?.get(entry.tag) ?? [],
      })),
    };
  } finally {
    await session.close();
  }
}

/** Pods and workloads of every namespace, listed once. */
async function listInventory(kubeConfig: KubeConfig): Promise<Inventory> {
  const core = kubeConfig.makeApiClient(kubeLibrary().CoreV1Api);
  const apps = kubeConfig.makeApiClient(kubeLibrary().AppsV1Api);
  const [pods, deployments, statefulSets, daemonSets] = await Promise.all([
    core.listPodForAllNamespaces(),
    apps.listDeploymentForAllNamespaces(),
    apps.listStatefulSetForAllNamespaces(),
    apps.listDaemonSetForAllNamespaces(),
  ]);
  return buildInventory(
    [
      ...deployments.items.map(({ metadata, spec }) => ({ kind: "Deployment", metadata, spec })),
      ...statefulSets.items.map(({ metadata, spec }) => ({ kind: "StatefulSet", metadata, spec })),
      ...daemonSets.items.map(({ metadata, spec }) => ({ kind: "DaemonSet", metadata, spec })),
    ],
    pods.items,
  );
}
