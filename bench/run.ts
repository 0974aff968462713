/**
 * `make bench`: digestpin's performance next to the bare-Node limit and a peer, each comparison
 * measured in the same run. Prints the tables and writes them into BENCHMARKS.md.
 *
 *   node --import tsx bench/run.ts [--only warm,cold,peer,pins,apiserver,reloads,scan,signatures]
 *     [--no-write] [--rounds N] [--quick (one round)] [--max-only (no fixed-rate runs)]
 *
 * DIGESTPIN_BENCH_DIGESTER=/path/to/k8s-digester adds the peer's rows (a binary built
 * elsewhere: this repository neither contains nor builds it).
 * DIGESTPIN_BENCH_VARIANTS=name=DIST[@LOG_LEVEL],… adds other builds of digestpin to the warm
 * path's and the signatures group's rounds (e.g. the dist/ of the commit before an optimization).
 * DIGESTPIN_BENCH_RELOAD_SECONDS=N shortens each run of the reloads group (default 30);
 * DIGESTPIN_BENCH_RELOAD_PINS=10000[,100000] chooses its pin counts,
 * DIGESTPIN_BENCH_RELOAD_SOURCES=file[,configmaps] its pins sources.
 */
import { parseArgs } from "node:util";
import { startBenchRegistry } from "./fixtures/registry.ts";
import { apiServerGroup } from "./groups/apiserver.ts";
import { COLD_DEFAULTS, coldGroup } from "./groups/cold.ts";
import { peerGroup } from "./groups/peer.ts";
import { pinsGroup } from "./groups/pins.ts";
import { RELOADS_DEFAULTS, reloadsGroup, type PinsSource } from "./groups/reloads.ts";
import { SCAN_DEFAULTS, scanGroup } from "./groups/scan.ts";
import { SIGNATURES_DEFAULTS, signaturesGroup } from "./groups/signatures.ts";
import { WARM_DEFAULTS, warmGroup } from "./groups/warm.ts";
import { startControlPlane } from "../test/harness/kube.ts";
import { machine, writeBenchmarks } from "./lib/benchmarks-file.ts";
import { createContext } from "./lib/context.ts";
import { checksTable, textTable, type GroupResult } from "./lib/report.ts";

const GROUPS = [
  "warm",
  "cold",
  "peer",
  "pins",
  "apiserver",
  "reloads",
  "scan",
  "signatures",
] as const;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: "string" },
      "no-write": { type: "boolean" },
      quick: { type: "boolean" },
      "max-only": { type: "boolean" },
      rounds: { type: "string" },
    },
  });
  const only = new Set(values.only?.split(",") ?? GROUPS);
  const about = machine();
  const ctx = await createContext();
  const results: GroupResult[] = [];
  try {
    ctx.log("starting the testbed registry behind toxiproxy (+20 ms)");
    const registry = await startBenchRegistry(ctx, 20);
    const quick = values.quick === true;
    const variants = (process.env.DIGESTPIN_BENCH_VARIANTS ?? "")
      .split(",")
      .filter((entry) => entry.includes("="))
      .map((entry) => {
        // name=DIST_DIR[@LOG_LEVEL][@NODE_FLAG…]
        const [name = "", ...specs] = entry.split("=");
        const [dist = "", logLevel, ...nodeArgs] = specs.join("=").split("@");
        return {
          name,
          dist,
          ...(logLevel !== undefined && logLevel !== "" && { logLevel }),
          ...(nodeArgs.length > 0 && { nodeArgs }),
        };
      });
    if (only.has("warm"))
      results.push(
        await warmGroup(ctx, registry, {
          ...WARM_DEFAULTS,
          variants,
          ...(quick && { rounds: 1 }),
          ...(values["max-only"] === true && { rates: [] }),
          ...(values.rounds !== undefined && { rounds: Number(values.rounds) }),
        }),
      );
    if (only.has("signatures"))
      results.push(
        await signaturesGroup(ctx, registry, {
          ...SIGNATURES_DEFAULTS,
          variants,
          ...(quick && { rounds: 1 }),
          ...(values["max-only"] === true && { rate: undefined }),
          ...(values.rounds !== undefined && { rounds: Number(values.rounds) }),
        }),
      );
    const needsCluster = ["peer", "pins", "apiserver", "reloads", "scan"].some((group) =>
      only.has(group),
    );
    const cluster = needsCluster
      ? await startControlPlane(ctx, { controllerManager: false })
      : undefined;
    const cold = only.has("cold") ? await coldGroup(ctx, registry, COLD_DEFAULTS) : undefined;
    if (cold !== undefined) results.push(cold);
    if (only.has("peer") && cluster !== undefined)
      results.push(
        await peerGroup(ctx, registry, {
          binary: process.env.DIGESTPIN_BENCH_DIGESTER,
          kubeconfig: cluster.kubeconfigPath,
          digestpinCold: cold?.figures,
        }),
      );
    if (only.has("pins") && cluster !== undefined) results.push(await pinsGroup(ctx, cluster));
    if (only.has("apiserver") && cluster !== undefined)
      results.push(await apiServerGroup(ctx, registry, cluster));
    if (only.has("reloads")) {
      const seconds = Number(process.env.DIGESTPIN_BENCH_RELOAD_SECONDS ?? NaN);
      const sizes = (process.env.DIGESTPIN_BENCH_RELOAD_PINS ?? "")
        .split(",")
        .filter((size) => size !== "")
        .map(Number);
      results.push(
        await reloadsGroup(ctx, registry, cluster, {
          ...RELOADS_DEFAULTS,
          ...(seconds > 0 && { seconds }),
          ...(sizes.length > 0 && { sizes }),
          ...(process.env.DIGESTPIN_BENCH_RELOAD_SOURCES !== undefined && {
            sources: process.env.DIGESTPIN_BENCH_RELOAD_SOURCES.split(",") as PinsSource[],
          }),
        }),
      );
    }
    if (only.has("scan") && cluster !== undefined)
      results.push(await scanGroup(ctx, registry, cluster, SCAN_DEFAULTS));
  } finally {
    await ctx.close();
  }
  console.log(about.join("\n") + "\n");
  for (const result of results)
    for (const table of result.tables) console.log(textTable(table) + "\n");
  console.log(textTable(checksTable(results.flatMap((r) => r.checks))));
  if (values["no-write"] !== true)
    console.log(`\nwritten: ${await writeBenchmarks(results, about, values.only?.split(","))}`);
}

await main();
