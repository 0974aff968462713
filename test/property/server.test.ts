import assert from "node:assert/strict";
import test from "ava";
import fc from "fast-check";
import { Agent, request } from "undici";
import { startTestServer } from "../helpers/webhook-server.ts";
import { reportRow } from "../helpers/reliability.ts";
import { corrupt, validReview, worldDeps } from "./admission-world.ts";

// The same hostile input over the real HTTPS server (express, body parser, TLS), fewer cases:
// every answer is JSON with a status the API server understands, and the server stays up.

const contentTypes = [
  "application/json",
  "application/json",
  "application/json",
  "application/json; charset=utf-8",
  "APPLICATION/JSON",
  "text/plain",
  "application/x-www-form-urlencoded",
  "",
] as const;

/** A body as bytes: JSON of a (possibly corrupted) review, any JSON, or any bytes at all. */
const body = fc.oneof(
  validReview.map((r) => Buffer.from(JSON.stringify(r.body))),
  fc
    .tuple(validReview, fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), fc.jsonValue())
    .map(([r, path, value]) => Buffer.from(JSON.stringify(corrupt(r.body, path, value) ?? null))),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v))),
  fc.string({ unit: "binary", maxLength: 200 }).map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
  fc.integer({ min: 1, max: 100_000 }).map((n) => Buffer.from(`${"[".repeat(n)}${"]".repeat(n)}`)),
);

test("arbitrary bodies and content types over HTTPS: JSON answers, 200/400/404/413/415 only", async (t) => {
  const server = await startTestServer(t, worldDeps());
  const agent = new Agent({ connect: { ca: server.caPem }, connections: 8 });
  t.teardown(() => agent.close());
  const statuses = new Map<number, number>();
  let cases = 0;
  let slowest = 0;
  await fc.assert(
    fc.asyncProperty(
      body,
      fc.constantFrom(...contentTypes),
      fc.constantFrom("/mutate", "/validate", "/mutate?timeout=10s", "/nowhere"),
      async (bytes, contentType, path) => {
        const started = performance.now();
        const response = await request(`${server.server.url}${path}`, {
          method: "POST",
          dispatcher: agent,
          headers: contentType === "" ? {} : { "content-type": contentType },
          body: bytes,
          headersTimeout: 5000,
          bodyTimeout: 5000,
        });
        const text = await response.body.text();
        slowest = Math.max(slowest, performance.now() - started);
        cases++;
        const status = response.statusCode;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        assert.ok([200, 400, 404, 413, 415].includes(status), `status ${status}: ${text}`);
        assert.match(String(response.headers["content-type"]), /^application\/json/);
        const json = JSON.parse(text);
        if (status !== 200) {
          assert.ok(typeof json.error === "string" && json.error.length > 0);
          return;
        }
        const sent = JSON.parse(bytes.toString("utf8"));
        assert.equal(json.kind, "AdmissionReview");
        assert.equal(json.response.uid, sent.request.uid);
        assert.equal(typeof json.response.allowed, "boolean");
        assert.notEqual(json.response.status?.code, 500);
      },
    ),
    { numRuns: 600 },
  );
  const health = await request(`${server.server.metricsUrl}/healthz`);
  t.is(health.statusCode, 200, "the server is still up");
  await health.body.dump();
  const figures = Object.fromEntries([...statuses].sort(([a], [b]) => a - b));
  reportRow(t, import.meta.url, {
    section: "inputs",
    subject:
      "HTTPS server: reviews, corrupted reviews, any JSON, any bytes, nesting up to 100k deep; 6 content types",
    tried: `${cases} requests (fast-check) over TLS`,
    outcome: `0 non-JSON answers, 0 5xx, server up after; statuses ${JSON.stringify(figures)}; slowest ${slowest.toFixed(0)} ms`,
    figures,
  });
});
