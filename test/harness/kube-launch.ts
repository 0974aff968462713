import { readFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { startService, waitUntilReady, type Service, type StartOptions } from "./service.ts";

/**
 * Starts a program. Tests use `startService` (stopped with the test); `make testbed-up` passes
 * one that detaches the program so it outlives the command.
 */
export type Launch = (options: StartOptions) => Service;

export const launchAttached: Launch = startService;

/** A started, ready program and how long it took to become ready. */
export interface Started {
  readonly service: Service;
  readonly readyMs: number;
}

const ATTEMPTS = 3;

/**
 * Launches what `options()` describes and polls `probe` until it answers. A free port
 * can be taken by someone else between `freePort()` and the program's bind; then the attempt
 * is repeated with the new ports `options` picks. A program that never gets ready is stopped.
 */
export async function launchReady(
  launch: Launch,
  options: () => Promise<StartOptions & { probe: () => Promise<boolean> }>,
  timeoutMs = 120_000,
): Promise<Started> {
  for (let attempt = 1; ; attempt++) {
    const { probe, ...startOptions } = await options();
    const logBefore = await readLog(startOptions.logFile);
    const started = Date.now();
    const service = launch(startOptions);
    try {
      await waitUntilReady(service, probe, timeoutMs);
      return { service, readyMs: Date.now() - started };
    } catch (error) {
      await service.stop();
      const log = (await readLog(startOptions.logFile)).slice(logBefore.length);
      const portTaken = log.includes("address already in use");
      if (!portTaken || attempt === ATTEMPTS) throw error;
    }
  }
}

function readLog(file: string): Promise<string> {
  return readFile(file, "utf8").catch(() => "");
}

export interface ProbeOptions {
  /** PEM CA that signed the server's certificate. */
  readonly ca?: string;
  readonly token?: string;
  /** For programs with self-signed certificates we have no CA for (controller-manager). */
  readonly insecure?: boolean;
}

/** GETs `url` (http or https) and returns the status and body; rejects on connection errors. */
export function httpGet(
  url: string,
  options: ProbeOptions = {},
): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> =
    options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };
  const request = url.startsWith("https:") ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        headers,
        timeout: 5000,
        agent: false, // no pooled keep-alive socket holding the process open after the test
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        ...(options.insecure === true ? { rejectUnauthorized: false } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

/** The resident set size of a running process in bytes (Linux /proc), or undefined. */
export async function residentBytes(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  return kib === undefined ? undefined : Number(kib) * 1024;
}
