/**
 * The limit: the least an AdmissionReview webhook can do with node:https on this machine. It
 * reads the body, JSON.parses it and answers with digestpin's own answer, with the same TLS
 * settings as digestpin's listener. Two ways:
 *
 *   node --import tsx bench/servers/limit-server.ts CERT KEY RESPONSE
 *     the fixed bytes of RESPONSE (what digestpin answers the bench's review), for load tests;
 *   node --import tsx bench/servers/limit-server.ts CERT KEY --replay UPSTREAM CA
 *     for the API server, which wants its uid back: the first review of each path is sent on
 *     to UPSTREAM (digestpin, trusted through CA) and its answer kept; every review after it
 *     is answered that answer with the review's uid (one JSON.stringify more than fixed bytes).
 *
 * Logs {"url": …} once listening.
 */
import { readFileSync } from "node:fs";
import { createServer, request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";

const [certFile, keyFile, answers, upstream, caFile] = process.argv.slice(2);
const replaying = answers === "--replay";
if (
  certFile === undefined ||
  keyFile === undefined ||
  answers === undefined ||
  (replaying && (upstream === undefined || caFile === undefined))
)
  throw new Error("usage: limit-server.ts CERT KEY (RESPONSE | --replay UPSTREAM CA)");
const fixed = replaying ? undefined : readFileSync(answers);
const caPem = replaying && caFile !== undefined ? readFileSync(caFile, "utf8") : undefined;

interface Review {
  request?: { uid?: string };
  response?: Record<string, unknown>;
}

/** Each path's first answer from upstream. */
const kept = new Map<string, Promise<Review>>();

/** POSTs `body` to UPSTREAM + `path`; the answer parsed. */
function ask(path: string, body: Buffer): Promise<Review> {
  return new Promise((resolve, reject) => {
    const outgoing = httpsRequest(
      `${upstream ?? ""}${path}`,
      {
        method: "POST",
        ca: caPem,
        headers: { "content-type": "application/json", "content-length": body.length },
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("end", () => {
          resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Review);
        });
        answer.on("error", reject);
      },
    );
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

/** The answer to `review` at `path`: upstream's first answer there, with this review's uid. */
async function replayed(path: string, body: Buffer, review: Review): Promise<Buffer | string> {
  let answer = kept.get(path);
  if (answer === undefined) {
    answer = ask(path, body);
    kept.set(path, answer);
  }
  const first = await answer;
  return JSON.stringify({ ...first, response: { ...first.response, uid: review.request?.uid } });
}

const server = createServer(
  { cert: readFileSync(certFile), key: readFileSync(keyFile), minVersion: "TLSv1.2" },
  (request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks);
      const review = JSON.parse(body.toString("utf8")) as Review;
      if (fixed !== undefined) send(fixed);
      else
        replayed((request.url ?? "").split("?")[0] ?? "", body, review).then(
          send,
          (error: unknown) => {
            // digestpin could not be asked: the API server sees a 502 (the bench says why).
            response.writeHead(502).end(String(error));
          },
        );
    });
    const send = (bytes: Buffer | string) => {
      response.writeHead(200, {
        "content-type": "application/json; charset=utf-8",
        "content-length": Buffer.byteLength(bytes),
      });
      response.end(bytes);
    };
  },
);
server.keepAliveTimeout = 120_000; // as digestpin's (src/webhook/server.ts)
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(
    JSON.stringify({ msg: "listening", url: `https://127.0.0.1:${port}` }) + "\n",
  );
});
process.once("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
});
