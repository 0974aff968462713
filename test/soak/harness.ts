import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import {
  createCertificateAuthority,
  createServingCertificate,
  type CertificatePair,
} from "../../src/tls/certificates.ts";
import { tempDir, type Teardown } from "../harness/lifecycle.ts";
import { freePort } from "../harness/ports.ts";
import { startService, waitUntilReady, type Service } from "../harness/service.ts";
import type { DriverConfig, DriverSummary } from "./load-driver.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** The built CLI `make soak` runs (after `make build`); DIGESTPIN_CLI overrides it. */
export function cliPath(): string {
  const cli = process.env.DIGESTPIN_CLI ?? join(root, "dist", "cli.js");
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run 'make build' first`);
  return cli;
}

export interface ServeProcess {
  readonly name: string;
  readonly url: string;
  readonly metricsUrl: string;
  readonly readyUrl: string;
  readonly port: number;
  readonly metricsPort: number;
  readonly service: Service;
  readonly pid: number;
  /** Resolves with the exit code once the process ended. */
  readonly exited: Promise<number | null>;
  signal(signal: NodeJS.Signals): void;
  log(): Promise<string>;
}

/**
 * `digestpin serve` as its own process on 127.0.0.1 (`port`, or a free one), ready when its
 * /readyz says so; stopped on teardown.
 */
export async function startServe(
  t: Teardown,
  name: string,
  args: readonly string[],
  options: { port?: number; metricsPort?: number; dir: string; env?: NodeJS.ProcessEnv },
): Promise<ServeProcess> {
  const port = options.port ?? (await freePort());
  const metricsPort = options.metricsPort ?? (await freePort());
  const logFile = join(options.dir, `${name}.log`);
  const service = startService({
    name: `digestpin serve (${name})`,
    command: process.execPath,
    args: [
      cliPath(),
      "serve",
      ...["--host", "127.0.0.1", "--port", String(port)],
      ...["--metrics-host", "127.0.0.1", "--metrics-port", String(metricsPort)],
      ...args,
    ],
    logFile,
    ...(options.env !== undefined && { env: options.env }),
  });
  const exited = new Promise<number | null>((resolve) => {
    if (service.process.exitCode !== null) resolve(service.process.exitCode);
    else
      service.process.once("exit", (code) => {
        resolve(code);
      });
  });
  t.teardown(() => service.stop());
  const readyUrl = `http://127.0.0.1:${metricsPort}/readyz`;
  await waitUntilReady(
    service,
    async () => {
      const response = await request(readyUrl);
      await response.body.dump();
      return response.statusCode === 200;
    },
    30_000,
  );
  return {
    name,
    url: `https://127.0.0.1:${port}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}`,
    readyUrl,
    port,
    metricsPort,
    service,
    pid: service.process.pid!,
    exited,
    signal: (signal) => service.process.kill(signal),
    log: () => readFile(logFile, "utf8"),
  };
}

export interface MemoryFigures {
  /** Resident set size in MiB: before the load, the peak during it, and after it settled. */
  readonly beforeMiB: number;
  readonly peakMiB: number;
  readonly afterMiB: number;
  readonly samples: number;
}

/** Samples a process's VmRSS (Linux /proc) every `everyMs` until `stop`. */
export function sampleRss(pid: number, everyMs = 200) {
  const read = async (): Promise<number | undefined> => {
    const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  };
  const state = { running: true };
  let peak = 0;
  let samples = 0;
  let before: number | undefined;
  const loop = (async () => {
    before = await read();
    while (state.running) {
      const value = await read();
      if (value !== undefined) {
        peak = Math.max(peak, value);
        samples++;
      }
      await sleep(everyMs);
    }
  })();
  return {
    /** Stops sampling after letting the process settle `settleMs`; returns the figures. */
    async stop(settleMs = 3000): Promise<MemoryFigures> {
      await sleep(settleMs);
      state.running = false;
      await loop;
      const after = (await read()) ?? 0;
      const round = (n: number) => Math.round(n * 10) / 10;
      return {
        beforeMiB: round(before ?? 0),
        peakMiB: round(Math.max(peak, after)),
        afterMiB: round(after),
        samples,
      };
    },
  };
}

/** Runs the load driver in its own process; resolves with its summary. */
export async function runDriver(
  t: Teardown,
  dir: string,
  name: string,
  config: DriverConfig,
): Promise<DriverSummary> {
  const configFile = join(dir, `${name}.driver.json`);
  const outFile = join(dir, `${name}.summary.json`);
  await writeFile(configFile, JSON.stringify(config));
  const service = startService({
    name: `load driver (${name})`,
    command: process.execPath,
    args: ["--import", "tsx", join(root, "test/soak/load-driver.ts"), configFile, outFile],
    logFile: join(dir, `${name}.driver.log`),
    cwd: root,
  });
  t.teardown(() => service.stop());
  const code = await new Promise<number | null>((resolve) => {
    if (service.process.exitCode !== null) resolve(service.process.exitCode);
    else
      service.process.once("exit", (c) => {
        resolve(c);
      });
  });
  if (code !== 0)
    throw new Error(`the load driver exited ${String(code)}:\n${await service.logTail()}`);
  return JSON.parse(await readFile(outFile, "utf8")) as DriverSummary;
}

/** A serving certificate authority for soak servers, and certificates from it. */
export function soakCa() {
  const ca = createCertificateAuthority({ commonName: "digestpin soak CA" });
  const issue = (): CertificatePair =>
    createServingCertificate(ca, { commonName: "127.0.0.1", hosts: ["127.0.0.1", "localhost"] });
  return { caPem: ca.cert, issue };
}

/**
 * A Secret volume as kubelet writes it: files in a timestamped directory, `..data` linking to
 * it, `tls.crt`/`tls.key` linking through `..data`; an update renames a new `..data` over the
 * old one (atomic) and removes the old directory.
 */
export async function secretVolume(t: Teardown, pair: CertificatePair) {
  const dir = await tempDir(t, "soak-tls-volume");
  let generation = 0;
  let current: string | undefined;
  const write = async (files: CertificatePair): Promise<string> => {
    generation += 1;
    const name = `..2030_01_01_00_00_${String(generation).padStart(2, "0")}.000000000`;
    await mkdir(join(dir, name), { mode: 0o755 });
    await writeFile(join(dir, name, "tls.crt"), files.cert);
    await writeFile(join(dir, name, "tls.key"), files.key, { mode: 0o600 });
    return name;
  };
  current = await write(pair);
  await symlink(current, join(dir, "..data"));
  await symlink("..data/tls.crt", join(dir, "tls.crt"));
  await symlink("..data/tls.key", join(dir, "tls.key"));
  return {
    certFile: join(dir, "tls.crt"),
    keyFile: join(dir, "tls.key"),
    async update(files: CertificatePair): Promise<void> {
      const next = await write(files);
      await symlink(next, join(dir, "..data_tmp"));
      await rename(join(dir, "..data_tmp"), join(dir, "..data"));
      if (current !== undefined) await rm(join(dir, current), { recursive: true });
      current = next;
    },
  };
}

/** Milliseconds until `at` (epoch ms), then resolves. */
export const until = (at: number) => sleep(Math.max(0, at - Date.now()));
