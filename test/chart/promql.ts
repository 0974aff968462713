/**
 * The metrics the chart's alerts and Grafana dashboard may query, and a reader of the metric
 * names a PromQL expression selects (for the tests of both).
 */

/** Every digestpin metric (histograms by their base name). */
export const DIGESTPIN_METRICS = [
  "digestpin_admission_reviews_total",
  "digestpin_image_decisions_total",
  "digestpin_admission_review_duration_seconds",
  "digestpin_registry_requests_total",
  "digestpin_registry_cache_lookups_total",
  "digestpin_policy_generation",
  "digestpin_policy_valid",
  "digestpin_policy_pins",
  "digestpin_policy_load_errors_total",
  "digestpin_certificate_expiry_timestamp_seconds",
  "digestpin_ready",
  "digestpin_build_info",
  "digestpin_drift_total",
  "digestpin_pins_moved",
  "digestpin_pins_moved_oldest_seconds",
  "digestpin_drift_scan_last_success_timestamp_seconds",
  "digestpin_drift_scan_duration_seconds",
  "digestpin_drift_scan_errors_total",
  "digestpin_drift_scan_leader",
] as const;

const HISTOGRAMS = new Set([
  "digestpin_admission_review_duration_seconds",
  "digestpin_drift_scan_duration_seconds",
]);

const KEYWORDS = new Set(["and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"]);

/**
 * The metric names `expr` selects, sorted; a histogram's `_bucket`, `_sum` and `_count` series
 * count as the histogram. Label matchers, ranges and grouping labels are not names; neither are
 * functions and aggregations (a name followed by `(`).
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = new Set<string>();
  for (const [, name, call] of bare.matchAll(/(?<![\w.:$])([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    if (call !== undefined || KEYWORDS.has(name!.toLowerCase())) continue;
    const base = name!.replace(/_(?:bucket|sum|count)$/, "");
    names.add(HISTOGRAMS.has(base) ? base : name!);
  }
  return [...names].sort();
}
