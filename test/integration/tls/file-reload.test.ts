import { mkdir, rename, rm, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { TLSSocket } from "node:tls";
import test from "ava";
import { Agent, buildConnector, request } from "undici";
import { createLogger } from "../../../src/observability/logger.ts";
import { Metrics } from "../../../src/observability/metrics.ts";
import {
  createCertificateAuthority,
  createServingCertificate,
  type CertificatePair,
} from "../../../src/tls/certificates.ts";
import { FileTlsSource, secureContextOptions } from "../../../src/tls/index.ts";
import { servingCertificate } from "../../../src/tls/material.ts";
import { tempDir, type Teardown } from "../../harness/lifecycle.ts";
import { waitFor } from "../../harness/wait.ts";

const ca = createCertificateAuthority({ commonName: "reload test CA" });
const issue = (): CertificatePair =>
  createServingCertificate(ca, { commonName: "127.0.0.1", hosts: ["127.0.0.1"] });
const fingerprint = (pair: CertificatePair) =>
  servingCertificate(pair.cert, pair.key).fingerprint256;

/**
 * A Secret volume as kubelet writes it: the files live in a timestamped directory, `..data`
 * links to it, and `tls.crt`/`tls.key` link through `..data`. An update writes a new
 * directory, points `..data_tmp` at it, renames that over `..data` (atomic) and removes the
 * old directory.
 */
class SecretVolume {
  #generation = 0;
  #current: string | undefined;
  constructor(readonly dir: string) {}

  get certFile() {
    return join(this.dir, "tls.crt");
  }
  get keyFile() {
    return join(this.dir, "tls.key");
  }

  async create(pair: CertificatePair): Promise<void> {
    const data = await this.#writeGeneration(pair);
    await symlink(data, join(this.dir, "..data"));
    await symlink("..data/tls.crt", this.certFile);
    await symlink("..data/tls.key", this.keyFile);
    this.#current = data;
  }

  async update(files: { cert: string; key: string }): Promise<string> {
    const data = await this.#writeGeneration(files);
    await symlink(data, join(this.dir, "..data_tmp"));
    await rename(join(this.dir, "..data_tmp"), join(this.dir, "..data"));
    if (this.#current !== undefined) await rm(join(this.dir, this.#current), { recursive: true });
    this.#current = data;
    return join(this.dir, data);
  }

  async #writeGeneration(files: { cert: string; key: string }): Promise<string> {
    this.#generation += 1;
    const name = `..2030_01_01_00_00_0${this.#generation}.000000000`;
    await mkdir(join(this.dir, name), { mode: 0o755 });
    await writeFile(join(this.dir, name, "tls.crt"), files.cert);
    await writeFile(join(this.dir, name, "tls.key"), files.key, { mode: 0o600 });
    return name;
  }
}

/** An agent trusting the test CA that records the certificate of each connection it makes. */
function recordingAgent(t: Teardown, seen: string[], connections: number): Agent {
  // No TLS session resumption: every connection is a full handshake showing the certificate.
  const connect = buildConnector({ ca: ca.cert, maxCachedSessions: 0 });
  const agent = new Agent({
    connections,
    keepAliveTimeout: 60_000,
    connect: (connectOptions, callback) => {
      connect(connectOptions, (...args) => {
        const [, socket] = args;
        if (socket !== null) seen.push((socket as TLSSocket).getPeerCertificate().fingerprint256);
        callback(...args);
      });
    },
  });
  t.teardown(() => agent.close().catch(() => undefined)); // closed already, perhaps
  return agent;
}

const until = (condition: () => boolean, what: string, timeoutMs = 10_000): Promise<true> =>
  waitFor(what, () => condition() || undefined, timeoutMs);

test("mounted certificates are reloaded mid-traffic without a failed request or a dropped connection", async (t) => {
  const volume = new SecretVolume(await tempDir(t, "tls-volume"));
  const a = issue();
  await volume.create(a);

  const logs: string[] = [];
  const logger = createLogger({
    level: "debug",
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString());
        done();
      },
    }),
  });
  const metrics = new Metrics();
  const source = new FileTlsSource({
    certFile: volume.certFile,
    keyFile: volume.keyFile,
    debounceMs: 50,
    pollIntervalMs: 0, // fs.watch alone must see kubelet's symlink swap
    logger,
    metrics,
  });
  t.teardown(() => source.stop());
  const first = await source.start();
  t.is(first.fingerprint256, fingerprint(a));

  const server: Server = createServer(secureContextOptions(source.current()), (_req, res) => {
    res.end("ok");
  });
  const changes: string[] = [];
  source.onChange((certificate) => {
    changes.push(certificate.fingerprint256);
    server.setSecureContext(secureContextOptions(certificate));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  // Two clients keep requesting over their keep-alive connections throughout.
  const keptAlive: string[] = [];
  const steady = recordingAgent(t, keptAlive, 2);
  let ok = 0;
  const failures: unknown[] = [];
  let running = true;
  const traffic = async () => {
    while (running) {
      try {
        const response = await request(url, { dispatcher: steady });
        if ((await response.body.text()) === "ok" && response.statusCode === 200) ok += 1;
        else failures.push(response.statusCode);
      } catch (error) {
        failures.push(error);
      }
    }
  };
  const clients = [traffic(), traffic()];
  // However the test ends, the clients stop before the teardowns close their agent.
  t.teardown(async () => {
    running = false;
    await Promise.all(clients);
  });
  /** The certificate a brand-new connection gets. */
  const freshConnection = async (): Promise<string> => {
    const seen: string[] = [];
    const agent = recordingAgent(t, seen, 1);
    const response = await request(url, { dispatcher: agent });
    await response.body.text();
    await agent.close();
    return seen[0]!;
  };
  const trafficFlowsOn = async () => {
    const before = ok;
    await until(() => ok >= before + 20, "more requests to succeed");
  };
  await trafficFlowsOn();

  // 1. A renewal: kubelet swaps in a new pair.
  const b = issue();
  await volume.update(b);
  await until(() => changes.length === 1, "the new certificate");
  t.is(changes[0], fingerprint(b));
  t.is(source.current().fingerprint256, fingerprint(b));
  t.is(await freshConnection(), fingerprint(b));
  t.is(
    (await metrics.certificateExpiry.get()).values[0]?.value,
    source.current().notAfter.getTime() / 1000,
  );
  await trafficFlowsOn();

  // 2. A pair that does not match: the certificate served stays.
  const c = issue();
  const d = issue();
  await volume.update({ cert: c.cert, key: d.key });
  await until(
    () => logs.some((line) => line.includes("cannot be served")),
    "the mismatch to be logged",
  );
  const rejection = JSON.parse(logs.find((line) => line.includes("cannot be served"))!);
  t.is(rejection.err.code, "ERR_TLS_MATERIAL");
  t.is(rejection.err.message, "the private key does not belong to the serving certificate");
  t.is(await freshConnection(), fingerprint(b));
  await trafficFlowsOn();

  // 3. A certificate written in two halves: the first half is refused, the whole one served.
  const e = issue();
  const half = e.cert.slice(0, e.cert.length >> 1);
  const generation = await volume.update({ cert: half, key: e.key });
  await until(
    () => logs.some((line) => line.includes("no PEM certificate found")),
    "the half file to be refused",
  );
  t.is(await freshConnection(), fingerprint(b));
  await writeFile(join(generation, "tls.crt"), e.cert);
  await until(() => changes.length === 2, "the completed certificate");
  t.is(changes[1], fingerprint(e));
  t.is(await freshConnection(), fingerprint(e));
  await trafficFlowsOn();

  running = false;
  await Promise.all(clients);
  t.deepEqual(failures, []);
  t.true(ok > 80, String(ok));
  // The keep-alive connections made before the first swap were never dropped.
  t.is(keptAlive.length, 2);
  t.true(keptAlive.every((seen) => seen === fingerprint(a)));
});

test("start fails on a mismatched pair, so a webhook never serves a wrong key", async (t) => {
  const volume = new SecretVolume(await tempDir(t, "tls-volume"));
  await volume.create({ cert: issue().cert, key: issue().key });
  const source = new FileTlsSource({ certFile: volume.certFile, keyFile: volume.keyFile });
  await t.throwsAsync(source.start(), {
    message: "the private key does not belong to the serving certificate",
  });
  await source.stop();
});
