/**
 * CPU profile of digestpin's warm path: `digestpin serve` under `node --cpu-prof`, driven at
 * maximum throughput by autocannon (another process) with the warm 3-container review, then
 * summarized: self time by area (package, node internals, digestpin's files), the hottest
 * functions, and the inclusive time of digestpin's own functions.
 *
 *   node --import tsx bench/profile.ts [--seconds 10] [--out DIR] [--limit]
 *
 * --limit profiles the bare node:https limit server instead (fed the same review), to see what
 * every server pays (TLS, HTTP, JSON.parse) next to what digestpin adds.
 *
 * The .cpuprofile is kept in DIR (default .run/profiles): open it in Chrome DevTools or
 * speedscope for the flame graph.
 */
import { mkdir, readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startBenchRegistry } from "./fixtures/registry.ts";
import { EXPECT_PATCH, startWarmDigestpin } from "./groups/warm.ts";
import { createContext } from "./lib/context.ts";
import { summarizeProfile } from "./lib/cpu-profile.ts";
import { closedLoop } from "./lib/load.ts";
import { REPO_ROOT, startLimit } from "./lib/servers.ts";

const { values } = parseArgs({
  options: { seconds: { type: "string" }, out: { type: "string" }, limit: { type: "boolean" } },
});
const seconds = Number(values.seconds ?? 10);
const out = resolve(values.out ?? join(REPO_ROOT, ".run/profiles"));
await mkdir(out, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const profileDir = join(out, stamp);

const ctx = await createContext();
try {
  const registry = await startBenchRegistry(ctx, 20);
  const profiling = ["--cpu-prof", "--cpu-prof-dir", profileDir];
  const warm = await startWarmDigestpin(ctx, registry, {
    nodeArgs: values.limit === true ? [] : profiling,
  });
  const target =
    values.limit === true
      ? await startLimit(
          ctx.dir,
          ctx.serving,
          await ctx.file("answer.json", warm.answer),
          profiling,
        )
      : warm.digestpin;
  ctx.log(`profiling ${target.name} for ${seconds} s at maximum throughput`);
  const result = await closedLoop(
    {
      url: target.url,
      connections: 32,
      durationS: seconds,
      plan: { kind: "same", bodyFile: warm.bodyFile },
      expect: EXPECT_PATCH,
      warmupS: 2,
    },
    ctx.dir,
  );
  await target.child.stop();
  const [file] = (await readdir(profileDir)).filter((name) => name.endsWith(".cpuprofile"));
  if (file === undefined) throw new Error(`no profile in ${profileDir}`);
  const summary = await summarizeProfile(join(profileDir, file), 30);
  const pct = (share: number): string => `${(share * 100).toFixed(1).padStart(5)} %`;
  console.log(`${result.requestsPerSecond.toFixed(0)} req/s; profile ${join(profileDir, file)}`);
  console.log(`busy ${summary.totalMs.toFixed(0)} ms\n\nself time by area:`);
  for (const a of summary.byArea) console.log(`  ${pct(a.share)}  ${a.area}`);
  console.log("\nself time by function:");
  for (const f of summary.byFunction) console.log(`  ${pct(f.share)}  ${f.name}`);
  if (summary.inclusive.length > 0) console.log("\ninclusive time of digestpin's functions:");
  for (const f of summary.inclusive) console.log(`  ${pct(f.share)}  ${f.name}`);
} finally {
  await ctx.close();
}
