import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import type { Crane } from "../harness/crane.ts";
import { toolPath } from "../harness/tools.ts";

const packageLock = new URL("../../package-lock.json", import.meta.url);

export interface ImageContents {
  /** The config's `User`. */
  readonly user: string;
  readonly layers: number;
  readonly compressedBytes: number;
  /** The flattened filesystem's size (`crane export`). */
  readonly unpackedBytes: number;
  /** Packages package-lock.json has for development only, found in /app/node_modules. */
  readonly devDependenciesPresent: readonly string[];
  /** Packages it has for production, not found there. */
  readonly dependenciesMissing: readonly string[];
  /** What the build used and the image must not keep (npm, the npm-ca build secret). */
  readonly buildLeftovers: readonly string[];
}

const BUILD_ONLY = [
  "usr/local/bin/npm",
  "usr/local/lib/node_modules/npm/package.json",
  "run/secrets/npm-ca",
  "src/package.json",
];

/** What the digestpin image holds, read from the registry (config, manifest, filesystem). */
export async function imageContents(crane: Crane, reference: string): Promise<ImageContents> {
  const config = JSON.parse(await crane.run(["config", reference])) as {
    config?: { User?: string };
  };
  const manifest = (await crane.manifest(reference)).json as { layers?: { size: number }[] };
  const { paths, bytes } = await exportedPaths(crane, reference);
  const lock = JSON.parse(await readFile(packageLock, "utf8")) as {
    packages: Record<string, { dev?: boolean; optional?: boolean }>;
  };
  // "node_modules/a/node_modules/b": where npm ci puts each package; "" is the project.
  const packages = Object.entries(lock.packages).filter(([path]) => path !== "");
  const installed = (path: string) => paths.has(`app/${path}/package.json`);
  return {
    user: config.config?.User ?? "",
    layers: manifest.layers?.length ?? 0,
    compressedBytes: (manifest.layers ?? []).reduce((sum, layer) => sum + layer.size, 0),
    unpackedBytes: bytes,
    devDependenciesPresent: packages
      .filter(([path, entry]) => entry.dev === true && installed(path))
      .map(([path]) => path),
    dependenciesMissing: packages
      .filter(([path, entry]) => entry.dev !== true && entry.optional !== true && !installed(path))
      .map(([path]) => path),
    buildLeftovers: BUILD_ONLY.filter((path) => paths.has(path)),
  };
}

/** `crane export REF -` through `tar -tv`: every path of the flattened image and their bytes. */
async function exportedPaths(
  crane: Crane,
  reference: string,
): Promise<{ paths: Set<string>; bytes: number }> {
  const command = await toolPath("crane");
  const listing = await new Promise<string>((resolve, reject) => {
    const exporter = spawn(command, ["export", reference, "-"], {
      env: { ...process.env, ...crane.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const tar = spawn("tar", ["-tvf", "-"], { stdio: ["pipe", "pipe", "pipe"] });
    exporter.stdout.pipe(tar.stdin);
    const chunks: Buffer[] = [];
    const errors: Buffer[] = [];
    tar.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    exporter.stderr.on("data", (chunk: Buffer) => errors.push(chunk));
    tar.on("error", reject);
    exporter.on("error", reject);
    tar.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(chunks).toString("utf8"));
      else reject(new Error(`crane export | tar -t failed: ${Buffer.concat(errors).toString()}`));
    });
  });
  const paths = new Set<string>();
  let bytes = 0;
  for (const line of listing.split("\n")) {
    // -rw-r--r-- root/root      1234 2024-01-01 00:00 path[ -> target]
    const match = /^\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(.*?)(?: -> .*| link to .*)?$/.exec(line);
    if (match === null) continue;
    bytes += Number(match[1]);
    paths.add(match[2]!.replace(/^\.\//, ""));
  }
  return { paths, bytes };
}
