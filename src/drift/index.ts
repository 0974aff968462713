// The drift scan: the elected replica re-resolves every pinned tag over an interval and keeps a
// report of the moved ones (change, affected workloads), with Events and metrics; read by the CLI.
export {
  DriftScanner,
  TAG_MOVED_REASON,
  tagMovedMessage,
  type DriftScannerOptions,
} from "./scanner.ts";
export {
  checkPins,
  RATE_LIMITED,
  summarize,
  type PinCheck,
  type ScanAnswer,
  type ScanRegistry,
} from "./check.ts";
export {
  decideRateLimit,
  DEFAULT_WAIT_MS,
  reserveOf,
  RESERVE_SHARE,
  type RateLimitDecision,
  type RateLimitObservation,
} from "./rate-limit.ts";
export { spreadOffsets, runPass, type PassOptions } from "./schedule.ts";
export {
  nextReport,
  parseReport,
  renderReport,
  reportTable,
  REPORT_KEY,
  type ChangeSummary,
  type FilesSummary,
  type CheckResult,
  type DriftReport,
  type MovedTag,
  type UnreachableTag,
  type Workload,
} from "./report.ts";
export { REPORT_CONFIGMAP, ReportStore, SCAN_LEASE } from "./report-store.ts";
export { buildInventory, digestOfImageId, ownerOf, type Inventory } from "./inventory.ts";
export { summarizeChange } from "./change.ts";
export { compareImageFiles, FILES_DOWNLOAD_LIMIT, type OpenLayer } from "./files.ts";
export { watchWorkloads, type WorkloadWatch } from "./workload-watch.ts";
