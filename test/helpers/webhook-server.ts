import type { SecureContextOptions } from "../../src/tls/index.ts";
import { Readable } from "node:stream";
import { Agent, request } from "undici";
import type { AdmissionDeps } from "../../src/admission/handler.ts";
import { Metrics } from "../../src/observability/metrics.ts";
import { silentLogger, type Logger } from "../../src/observability/logger.ts";
import { startServer, type Readiness, type RunningServer } from "../../src/webhook/server.ts";
import {
  createCertificateAuthority,
  createServingCertificate,
} from "../../src/tls/certificates.ts";

export interface TestServer {
  readonly server: RunningServer;
  readonly metrics: Metrics;
  readonly caPem: string;
  /** A fresh serving certificate from the same CA (for reload tests). */
  readonly issue: () => SecureContextOptions;
  /**
   * POSTs `body` to `path` over TLS (a string or Readable as is, chunked for a Readable;
   * anything else as JSON); returns status and parsed JSON.
   */
  readonly post: (
    path: string,
    body: unknown,
    headers?: Record<string, string>,
  ) => Promise<{ status: number; json: any; headers: Record<string, unknown> }>;
  readonly close: () => Promise<void>;
}

/** digestpin's server on 127.0.0.1 (ports 0) with a test CA, over undici with keep-alive. */
export async function startTestServer(
  t: { teardown(fn: () => Promise<void> | void): void },
  deps: AdmissionDeps,
  options: { readiness?: () => Readiness; drainDelayMs?: number; logger?: Logger } = {},
): Promise<TestServer> {
  const ca = createCertificateAuthority({ commonName: "test" });
  const issue = () => ({
    ...createServingCertificate(ca, { commonName: "127.0.0.1", hosts: ["127.0.0.1"] }),
    minVersion: "TLSv1.2" as const,
  });
  const metrics = new Metrics();
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    metricsHost: "127.0.0.1",
    metricsPort: 0,
    certificate: issue(),
    deps: { ...deps, metrics, logger: options.logger ?? silentLogger() },
    readiness: options.readiness ?? (() => ({ ready: true })),
    ...(options.drainDelayMs !== undefined && { drainDelayMs: options.drainDelayMs }),
  });
  const dispatcher = new Agent({ connect: { ca: ca.cert } });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await server.close();
    await dispatcher.close();
  };
  t.teardown(close);
  return {
    server,
    metrics,
    caPem: ca.cert,
    issue,
    async post(path, body, headers = { "content-type": "application/json" }) {
      const response = await request(`${server.url}${path}`, {
        method: "POST",
        dispatcher,
        headers,
        body: typeof body === "string" || body instanceof Readable ? body : JSON.stringify(body),
      });
      const text = await response.body.text();
      return {
        status: response.statusCode,
        json: text === "" ? undefined : JSON.parse(text),
        headers: response.headers,
      };
    },
    close,
  };
}
