// Observability: structured logs (pino) and Prometheus metrics (prom-client) for the parts
// that run in the webhook. The ground floor: it imports nothing of digestpin's.
export { createLogger, silentLogger, withoutRedaction, type Logger } from "./logger.ts";
export { Metrics } from "./metrics.ts";
export { digestpinVersion } from "./build-info.ts";
