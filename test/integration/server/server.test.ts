import { readFile } from "node:fs/promises";
import { Readable, Writable } from "node:stream";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { connect, type PeerCertificate } from "node:tls";
import { setTimeout as sleep } from "node:timers/promises";
import test from "ava";
import { request } from "undici";
import {
  D,
  harness,
  pinnedPolicy,
  pod,
  podSpec,
  request as reviewRequest,
} from "../../unit/admission/fixtures.ts";
import { startTestServer } from "../../helpers/webhook-server.ts";
import { createLogger } from "../../../src/observability/logger.ts";

// The webhook server over real TLS, driven with undici as the API server would.

const review = (object: unknown = pod(podSpec({ app: "busybox:1.36" }))) => ({
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  request: reviewRequest("Pod", object),
});
const registry = { "docker.io/library/busybox:1.36": D };

test("POST /mutate answers an AdmissionReview with the request's uid and a patch", async (t) => {
  const { post } = await startTestServer(t, harness(pinnedPolicy(), registry).deps);
  const { status, json } = await post("/mutate", review());
  t.is(status, 200);
  t.is(json.apiVersion, "admission.k8s.io/v1");
  t.is(json.kind, "AdmissionReview");
  t.is(json.response.uid, "7b0f1f6c-uid");
  t.true(json.response.allowed);
  t.is(json.response.patchType, "JSONPatch");
  const validate = await post("/validate", review());
  t.false(validate.json.response.allowed, "validate wants digests");
});

test("wrong content type 415, malformed JSON 400, not a review 400, too large 413 — all JSON", async (t) => {
  const { post } = await startTestServer(t, harness(pinnedPolicy(), registry).deps);
  const wrongType = await post("/mutate", review(), { "content-type": "text/plain" });
  t.is(wrongType.status, 415);
  t.regex(wrongType.json.error, /application\/json/);
  const malformed = await post("/mutate", "{not json");
  t.is(malformed.status, 400);
  t.is(malformed.json.error, "the body is not valid JSON");
  const notReview = await post("/mutate", { apiVersion: "v1", kind: "Pod" });
  t.is(notReview.status, 400);
  t.regex(notReview.json.error, /admission\.k8s\.io\/v1/);
  const noUid = await post("/mutate", {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {},
  });
  t.is(noUid.status, 400);
  const huge = await post(
    "/mutate",
    review({ ...pod(podSpec({ app: "busybox:1.36" })), filler: "x".repeat(8 << 20) }),
  );
  t.is(huge.status, 413);
  const missing = await post("/nowhere", review());
  t.is(missing.status, 404);
});

test("reviews skip express, with the answers express gives a chunked request of the same body", async (t) => {
  const { post } = await startTestServer(t, harness(pinnedPolicy(), registry).deps);
  const bodies = {
    review: JSON.stringify(review()),
    "review with a BOM": "\uFEFF" + JSON.stringify(review()),
    "malformed JSON": "{not json",
    empty: "",
    "not a review": JSON.stringify({ apiVersion: "v1", kind: "Pod" }),
    "no uid": JSON.stringify({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      request: {},
    }),
    "a JSON string": '"text"',
  };
  const types = ["application/json", "application/json; charset=utf-8", "Application/JSON"];
  for (const [name, text] of Object.entries(bodies)) {
    for (const path of ["/mutate", "/validate?timeout=10s"]) {
      for (const type of types) {
        const headers = { "content-type": type };
        // With a Content-Length (as the API server sends) the fast path answers; chunked, express.
        const fast = await post(path, text, headers);
        const viaExpress = await post(path, Readable.from([Buffer.from(text)]), headers);
        const what = `${name} to ${path} as ${type}`;
        t.is(fast.status, viaExpress.status, what);
        t.deepEqual(fast.json, viaExpress.json, what);
        t.is(fast.headers["content-type"], viaExpress.headers["content-type"], what);
        // Which road answered: express adds an ETag (the API server ignores it), the fast path not.
        if (name === "review") {
          t.is(fast.headers.etag, undefined, what);
          t.truthy(viaExpress.headers.etag, what);
        }
      }
    }
  }
});

test("a failure inside the handler is a denial that still echoes the uid", async (t) => {
  const { deps } = harness(pinnedPolicy(), registry, {
    keychainFor: () => {
      throw new Error("boom");
    },
    policy: () => {
      throw new Error("policy exploded");
    },
  });
  const { post } = await startTestServer(t, deps);
  const { status, json } = await post("/mutate", review());
  t.is(status, 200);
  t.false(json.response.allowed);
  t.is(json.response.uid, "7b0f1f6c-uid");
  t.is(json.response.status.code, 500);
});

test("at level info an admitted review writes no log line, a denied one does; at debug both", async (t) => {
  const lines = async (level: string): Promise<Record<string, unknown>[]> => {
    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ level, destination });
    const { post, close } = await startTestServer(t, harness(pinnedPolicy(), registry).deps, {
      logger,
    });
    t.true((await post("/mutate", review())).json.response.allowed);
    t.false((await post("/validate", review())).json.response.allowed);
    await close();
    return chunks
      .join("")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === "admission review");
  };
  const info = await lines("info");
  t.deepEqual(
    info.map((line) => [line.level, line.endpoint, line.decision]),
    [[30, "validate", "denied"]],
  );
  t.is(typeof info[0]?.time, "number", "epoch milliseconds");
  const debug = await lines("debug");
  t.deepEqual(
    debug.map((line) => [line.level, line.endpoint, line.decision, line.images]),
    [
      [20, "mutate", "mutated", ["containers[app]=mutate/pinned"]],
      [30, "validate", "denied", ["containers[app]=deny/not-digest-form"]],
    ],
  );
});

test("probes and metrics live on the plain port", async (t) => {
  let ready = false;
  const reason =
    'no valid policy loaded: policy.yaml:3:7: mode: "strict" is not one of enforce, warn, audit';
  const { server, post } = await startTestServer(t, harness(pinnedPolicy(), registry).deps, {
    readiness: () => (ready ? { ready: true } : { ready: false, reason }),
  });
  t.is((await request(`${server.metricsUrl}/healthz`)).statusCode, 200);
  const notReady = await request(`${server.metricsUrl}/readyz`);
  t.is(notReady.statusCode, 503);
  t.deepEqual(await notReady.body.json(), { status: reason }, "the body says why");
  t.regex(
    await (await request(`${server.metricsUrl}/metrics`)).body.text(),
    /^digestpin_ready 0$/m,
  );
  ready = true;
  t.is((await request(`${server.metricsUrl}/readyz`)).statusCode, 200);
  t.regex(
    await (await request(`${server.metricsUrl}/metrics`)).body.text(),
    /^digestpin_ready 1$/m,
  );
  await post("/mutate", review());
  const metrics = await (await request(`${server.metricsUrl}/metrics`)).body.text();
  t.regex(
    metrics,
    /digestpin_admission_reviews_total\{endpoint="mutate",operation="CREATE",decision="mutated"\} 1/,
  );
  t.regex(
    metrics,
    /digestpin_image_decisions_total\{endpoint="mutate",action="mutate",reason="pinned"\} 1/,
  );
  t.regex(metrics, /digestpin_admission_review_duration_seconds_count\{endpoint="mutate"\} 1/);
  const { version } = JSON.parse(await readFile("package.json", "utf8")) as { version: string };
  t.true(
    metrics.includes(`digestpin_build_info{version="${version}",node="${process.version}"} 1`),
    "the build's version and Node.js",
  );
});

test("shutdown: readiness fails first, in-flight reviews finish, then the port closes", async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let arrived!: () => void;
  const inHandler = new Promise<void>((resolve) => (arrived = resolve));
  const { deps } = harness(pinnedPolicy(), registry);
  const slow = {
    ...deps,
    resolve: async (...args: Parameters<typeof deps.resolve>) => {
      arrived();
      await gate;
      return deps.resolve(...args);
    },
  };
  const { server, post } = await startTestServer(t, slow, { drainDelayMs: 300 });
  const inFlight = post("/mutate", review());
  await inHandler;
  const closing = server.close();
  t.is((await request(`${server.metricsUrl}/readyz`)).statusCode, 503);
  release();
  const answered = await inFlight;
  t.is(answered.status, 200);
  t.true(answered.json.response.allowed);
  t.is(
    answered.headers.connection,
    "close",
    "a review answered while draining closes its connection",
  );
  await closing;
  await t.throwsAsync(request(`${server.url}/mutate`, { method: "POST" }));
});

test("TLS below 1.2 is refused; a certificate swap reaches new connections only", async (t) => {
  const { server, caPem, issue, post } = await startTestServer(
    t,
    harness(pinnedPolicy(), registry).deps,
  );
  const { port } = new URL(server.url);
  const handshake = (options: object) =>
    new Promise<PeerCertificate>((resolve, reject) => {
      const socket = connect(
        { host: "127.0.0.1", port: Number(port), ca: caPem, ...options },
        () => {
          const cert = socket.getPeerCertificate();
          socket.end();
          resolve(cert);
        },
      );
      socket.on("error", reject);
    });
  await t.throwsAsync(handshake({ maxVersion: "TLSv1.1", minVersion: "TLSv1" }));
  const before = await handshake({});
  await post("/mutate", review());
  server.setCertificate(issue());
  const after = await handshake({});
  t.not(after.serialNumber, before.serialNumber);
  t.is((await post("/mutate", review())).status, 200, "the kept-alive connection still works");
});

test("connections are kept alive past Node.js's 5 s and counted once each", async (t) => {
  const { server, caPem, metrics } = await startTestServer(
    t,
    harness(pinnedPolicy(), registry).deps,
  );
  const connections = async () => (await metrics.connections.get()).values[0]?.value ?? 0;
  const body = JSON.stringify(review());
  // node:https, as the API server's Go client: one kept-alive connection, reused.
  const send = (agent: HttpsAgent) =>
    new Promise<number | undefined>((resolve, reject) => {
      const req = httpsRequest(
        `${server.url}/mutate`,
        {
          method: "POST",
          agent,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            resolve(res.statusCode);
          });
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  const kept = new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: caPem });
  t.teardown(() => {
    kept.destroy();
  });
  for (let i = 0; i < 5; i++) t.is(await send(kept), 200);
  // Idle longer than Node.js's default keep-alive (5 s and a 1 s buffer): still the same
  // connection (the API server keeps idle ones 90 s; a review sent as one closed would fail).
  await sleep(7_000);
  t.is(await send(kept), 200);
  t.is(await connections(), 1);
  const fresh = new HttpsAgent({ keepAlive: false, ca: caPem });
  t.teardown(() => {
    fresh.destroy();
  });
  for (let i = 0; i < 3; i++) t.is(await send(fresh), 200);
  t.is(await connections(), 4, "a client that does not keep connections alive: one per review");
});
