import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import express, { type ErrorRequestHandler, type Request, type Response } from "express";
import type { ReviewEndpoint } from "../admission/index.ts";
import type { SecureContextOptions } from "../tls/index.ts";
import { BODY_LIMIT_BYTES, closeIfDraining, HTTP_ERRORS } from "./answers.ts";
import { reviewFastPath } from "./fast-path.ts";
import { answerReview, type EndpointDeps } from "./review-answer.ts";

/** How long an idle webhook connection is kept: longer than the API server's 90 s. */
export const KEEP_ALIVE_MS = 120_000;

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  readonly metricsHost: string;
  readonly metricsPort: number;
  readonly certificate: SecureContextOptions;
  readonly deps: EndpointDeps;
  /** Whether the webhook can answer (a policy is loaded), and why not (for /readyz). */
  readonly readiness: () => Readiness;
  /** How long readiness fails before the listener closes, so load balancers stop sending. */
  readonly drainDelayMs?: number;
}

export type Readiness =
  { readonly ready: true } | { readonly ready: false; readonly reason: string };

export interface RunningServer {
  readonly url: string;
  readonly metricsUrl: string;
  /** Swaps the serving certificate for new connections; open ones keep theirs. */
  setCertificate(certificate: SecureContextOptions): void;
  /** Graceful stop: readiness fails, in-flight reviews finish, then the listeners close. */
  close(): Promise<void>;
}

/** The webhook's HTTPS listener (/mutate, /validate) and its plain one (/healthz, /readyz, /metrics). */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  let draining = false;
  const isDraining = () => draining;
  // The API server's requests skip express (see review-fast-path.ts); any other goes to it.
  const webhook = createHttpsServer(
    options.certificate,
    reviewFastPath(
      webhookApp(options.deps, isDraining),
      options.deps,
      isDraining,
      BODY_LIMIT_BYTES,
    ),
  );
  // The API server keeps idle connections to webhooks for 90 s (Go's default); Node.js closes
  // them after 5 s. A review sent as the server closes fails ("EOF": denied under
  // failurePolicy: Fail) and each new connection costs a handshake, so the client closes first.
  webhook.keepAliveTimeout = KEEP_ALIVE_MS;
  webhook.on("secureConnection", () => {
    options.deps.metrics.connections.inc();
  });
  const probes = createHttpServer(probesApp(options, () => draining));
  await listen(webhook, options.host, options.port);
  await listen(probes, options.metricsHost, options.metricsPort);
  return {
    url: `https://${hostPort(webhook)}`,
    metricsUrl: `http://${hostPort(probes)}`,
    setCertificate(certificate) {
      webhook.setSecureContext(certificate);
    },
    async close() {
      draining = true;
      await sleep(options.drainDelayMs ?? 0);
      await Promise.all([close(webhook), close(probes)]);
    },
  };
}

function webhookApp(deps: EndpointDeps, draining: () => boolean): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.use((req, res, next) => {
    closeIfDraining(res, draining);
    if (req.method === "POST" && !req.is("application/json")) {
      res.status(415).json({ error: HTTP_ERRORS.contentType });
      return;
    }
    next();
  });
  app.use(express.json({ limit: BODY_LIMIT_BYTES, strict: false }));
  const review = (endpoint: ReviewEndpoint) => async (req: Request, res: Response) => {
    const answer = await answerReview(endpoint, req.body, deps);
    closeIfDraining(res, draining);
    res.status(answer.status).json(answer.body);
  };
  app.post("/mutate", review("mutate"));
  app.post("/validate", review("validate"));
  app.use((_req, res) => {
    res.status(404).json({ error: HTTP_ERRORS.notFound });
  });
  app.use(errorAsJson);
  return app;
}

function probesApp(options: ServerOptions, draining: () => boolean): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  const readiness = (): Readiness =>
    draining() ? { ready: false, reason: "draining" } : options.readiness();
  app.get("/readyz", (_req, res) => {
    const now = readiness();
    res.status(now.ready ? 200 : 503).json({ status: now.ready ? "ready" : now.reason });
  });
  app.get("/metrics", async (_req, res) => {
    options.deps.metrics.ready.set(readiness().ready ? 1 : 0);
    const registry = options.deps.metrics.registry;
    res.setHeader("content-type", registry.contentType);
    res.send(await registry.metrics());
  });
  return app;
}

/** Body-parser failures (malformed JSON 400, too large 413) as JSON errors. */
const errorAsJson: ErrorRequestHandler = (
  error: { status?: number; type?: string; message?: string },
  _req,
  res,
  _next,
) => {
  const status =
    error.status !== undefined && error.status >= 400 && error.status < 500 ? error.status : 500;
  const message =
    error.type === "entity.parse.failed"
      ? HTTP_ERRORS.notJson
      : error.type === "entity.too.large"
        ? HTTP_ERRORS.tooLarge
        : status === 500
          ? HTTP_ERRORS.internal
          : (error.message ?? "bad request");
  res.status(status).json({ error: message });
};

function listen(server: HttpServer | HttpsServer, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** In-flight requests get this long to finish once the listener is closed. */
const CLOSE_GRACE_MS = 15_000;

/**
 * Stops accepting, lets in-flight requests finish, and closes each kept-alive connection as soon
 * as it goes idle; what is still open after the grace period is cut.
 */
function close(server: HttpServer | HttpsServer): Promise<void> {
  return new Promise((resolve) => {
    const sweep = setInterval(() => {
      server.closeIdleConnections();
    }, 50);
    const cut = setTimeout(() => {
      server.closeAllConnections();
    }, CLOSE_GRACE_MS);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}

function hostPort(server: HttpServer | HttpsServer): string {
  const address = server.address() as AddressInfo;
  return address.family === "IPv6"
    ? `[${address.address}]:${address.port}`
    : `${address.address}:${address.port}`;
}
