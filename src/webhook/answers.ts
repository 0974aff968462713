import type { ServerResponse } from "node:http";

/**
 * The largest review body accepted: the API server sends at most 3 MiB per object, and a
 * review of an UPDATE carries two objects plus its envelope.
 */
export const BODY_LIMIT_BYTES = 7 * 1024 * 1024;

/** The error bodies of the webhook's HTTP answers (JSON `{ "error": … }`), one text each. */
export const HTTP_ERRORS = {
  notJson: "the body is not valid JSON",
  tooLarge: `the body is larger than ${String(BODY_LIMIT_BYTES / 1024 / 1024)} MiB`,
  contentType: "expected Content-Type application/json",
  notFound: "not found: POST /mutate or /validate",
  internal: "internal error",
} as const;

/**
 * An answer given while the server drains closes its connection, so the client (the API
 * server) reconnects to another replica.
 */
export function closeIfDraining(res: ServerResponse, draining: () => boolean): void {
  if (draining()) res.setHeader("connection", "close");
}
