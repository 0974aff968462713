import { readFile } from "node:fs/promises";

/** The parts of a V8 .cpuprofile (node --cpu-prof) the summary reads. */
interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: {
      readonly functionName: string;
      readonly url: string;
      readonly lineNumber: number;
    };
    readonly children?: readonly number[];
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileSummary {
  readonly totalMs: number;
  /** Self time by where the code lives: a package, node's internals, digestpin's files, GC. */
  readonly byArea: readonly {
    readonly area: string;
    readonly ms: number;
    readonly share: number;
  }[];
  /** The functions with the most self time. */
  readonly byFunction: readonly {
    readonly name: string;
    readonly ms: number;
    readonly share: number;
  }[];
  /** Inclusive time of digestpin's own functions (theirs and everything they call). */
  readonly inclusive: readonly {
    readonly name: string;
    readonly ms: number;
    readonly share: number;
  }[];
}

/** Where a frame's code lives, for grouping: `express`, `pino`, `node:internal`, `src/…`. */
function areaOf(url: string, functionName: string): string {
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules?.[1] !== undefined) return modules[1];
  if (url.startsWith("node:"))
    return url
      .split("/")
      .slice(0, 2)
      .join("/")
      .replace(/^node:internal\/.*/, "node:internal");
  const dist = /\/dist\/(.+)$/.exec(url);
  if (dist?.[1] !== undefined)
    return `digestpin ${dist[1].split("/")[0]?.replace(/\.js$/, "") ?? ""}`;
  return url;
}

export async function summarizeProfile(file: string, top = 25): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, "utf8")) as CpuProfile;
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  let total = 0;
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined) continue;
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") continue;
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const short =
      url === ""
        ? ""
        : ` ${url.replace(/^.*\/(node_modules|dist)\//, "").replace(/^file:\/\//, "")}:${lineNumber + 1}`;
    const name = `${functionName || "(anonymous)"}${short}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
    // Inclusive time of digestpin's functions: every ancestor frame from dist/ gets the sample.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (
        frame === undefined ||
        !frame.url.includes("/dist/") ||
        frame.url.includes("node_modules")
      )
        continue;
      const key = `${frame.functionName || "(anonymous)"} ${frame.url.replace(/^.*\/dist\//, "")}:${frame.lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  let idle = 0;
  for (const [id, us] of selfUs) if (byId.get(id)?.callFrame.functionName === "(idle)") idle += us;
  const nonIdle = total - idle;
  const rank = (map: Map<string, number>, n: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: us / 1000, share: us / nonIdle }));
  return {
    totalMs: nonIdle / 1000,
    byArea: rank(areas, 20).map(({ name, ms, share }) => ({ area: name, ms, share })),
    byFunction: rank(functions, top),
    inclusive: rank(inclusive, top),
  };
}
