import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tempDir, type Teardown } from "./lifecycle.ts";
import { createTestCa } from "./test-ca.ts";

/** The parts of an AdmissionReview v1 request a smoke test looks at. */
export interface ReviewRequest {
  readonly uid: string;
  readonly kind: { group: string; version: string; kind: string };
  readonly namespace?: string;
  readonly operation: string;
  readonly dryRun?: boolean;
  readonly object?: unknown;
}

/** What the webhook answers: `response` of an AdmissionReview v1, without the uid. */
export interface ReviewVerdict {
  readonly allowed: boolean;
  readonly status?: { code?: number; reason?: string; message?: string };
  readonly warnings?: readonly string[];
}

export interface TestWebhook {
  /** https://127.0.0.1:PORT/validate, for `clientConfig.url`. */
  readonly url: string;
  /** For `clientConfig.caBundle` (base64 of it). */
  readonly caPem: string;
  /** Every review received, oldest first. */
  readonly reviews: readonly ReviewRequest[];
}

/**
 * A minimal admission webhook on 127.0.0.1 (port 0) with a serving certificate from its own
 * test CA. It answers every AdmissionReview with `decide(request)`; closed on teardown.
 */
export async function startTestWebhook(
  t: Teardown,
  decide: (request: ReviewRequest) => ReviewVerdict,
): Promise<TestWebhook> {
  const ca = await createTestCa(await tempDir(t, "webhook"), "digestpin testbed webhook CA");
  const serving = await ca.issue("webhook", ["127.0.0.1"]);
  const reviews: ReviewRequest[] = [];
  const server = createServer({ cert: serving.cert, key: serving.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const review = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        request: ReviewRequest;
      };
      reviews.push(review.request);
      const response = { uid: review.request.uid, ...decide(review.request) };
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `https://127.0.0.1:${port}/validate`, caPem: ca.caPem, reviews };
}
