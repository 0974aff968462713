// The webhook: `digestpin serve` assembled (policy source, TLS, registry resolver, recorder)
// and its HTTPS server, with the fast path for the API server's plain reviews.
export { startWebhook, type Webhook } from "./start.ts";
export { LOG_LEVELS, parseServeConfig, type ServeConfig, type WebhookContext } from "./config.ts";
