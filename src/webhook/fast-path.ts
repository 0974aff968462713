import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { ReviewEndpoint } from "../admission/index.ts";
import { andThen, type AtOnce } from "../at-once.ts";
import { closeIfDraining, HTTP_ERRORS } from "./answers.ts";
import { answerReview, type EndpointDeps, type HttpAnswer } from "./review-answer.ts";

/**
 * The request the API server sends, answered without express: express's JSON body parser,
 * router and `res.json` cost more CPU than the review itself (see BENCHMARKS.md).
 *
 * Only a request whose headers show it is that common case takes this path: POST to exactly
 * /mutate or /validate (any query: the API server adds `?timeout=10s`), Content-Type
 * `application/json` with no charset or UTF-8, no Content-Encoding, and a Content-Length
 * within the limit. Everything else goes to `fallback` (the express app) untouched, and is
 * answered exactly as before: 404, 415, 413, compressed or chunked bodies, other charsets.
 * On this path the answers are the express app's too: the body decoded as body-parser does
 * (UTF-8, a leading BOM dropped, empty → `{}`), 400 for JSON that does not parse, 500 for a
 * failure outside the review, every answer JSON with the same Content-Type.
 */
export function reviewFastPath(
  fallback: RequestListener,
  deps: EndpointDeps,
  draining: () => boolean,
  bodyLimit: number,
): RequestListener {
  return (req, res) => {
    const endpoint = plainReview(req, bodyLimit);
    if (endpoint === undefined) {
      fallback(req, res);
      return;
    }
    closeIfDraining(res, draining);
    const chunks: Buffer[] = [];
    req.on("error", () => undefined); // a request its client aborted is dropped
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      answer(endpoint, chunks, res, deps, draining);
    });
  };
}

const JSON_TYPES = new Set([
  "application/json",
  "application/json; charset=utf-8",
  "application/json;charset=utf-8",
]);

/** The endpoint of a request that is the common case, or undefined for any other request. */
function plainReview(req: IncomingMessage, bodyLimit: number): ReviewEndpoint | undefined {
  if (req.method !== "POST") return undefined;
  const url = req.url ?? "";
  const query = url.indexOf("?");
  const path = query === -1 ? url : url.slice(0, query);
  const endpoint = path === "/mutate" ? "mutate" : path === "/validate" ? "validate" : undefined;
  if (endpoint === undefined) return undefined;
  const {
    "content-type": type,
    "content-encoding": encoding,
    "content-length": length,
  } = req.headers;
  if (type === undefined || !JSON_TYPES.has(type.toLowerCase())) return undefined;
  if (encoding !== undefined && encoding.toLowerCase() !== "identity") return undefined;
  if (length === undefined || !/^\d{1,10}$/.test(length) || Number(length) > bodyLimit)
    return undefined;
  return endpoint;
}

/** Answers the review: at once when it waited on nothing (the warm review), else when it is in. */
function answer(
  endpoint: ReviewEndpoint,
  chunks: readonly Buffer[],
  res: ServerResponse,
  deps: EndpointDeps,
  draining: () => boolean,
): void {
  const send = (status: number, json: string): void => {
    closeIfDraining(res, draining);
    res.writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(json),
    });
    res.end(json);
  };
  const sendAnswer = (answered: HttpAnswer): void => {
    send(answered.status, answered.json ?? JSON.stringify(answered.body));
  };
  const sendFailure = (): void => {
    send(500, JSON.stringify({ error: HTTP_ERRORS.internal }));
  };
  const parsed = parseBody(chunks);
  if (!parsed.ok) {
    send(400, JSON.stringify({ error: HTTP_ERRORS.notJson }));
    return;
  }
  let answered: AtOnce<HttpAnswer>;
  try {
    answered = answerReview(endpoint, parsed.value, deps);
  } catch {
    sendFailure();
    return;
  }
  void andThen(answered, sendAnswer, sendFailure);
}

function parseBody(chunks: readonly Buffer[]): { ok: true; value: unknown } | { ok: false } {
  const bytes = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  let text = bytes?.toString("utf8") ?? "";
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.length === 0) return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}
