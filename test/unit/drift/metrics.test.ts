import test from "ava";
import { Metrics } from "../../../src/observability/index.ts";

// The drift scan's gauges: the leader's alone, the Lease gauge on every scanning replica, none
// when the scan is off (docs/alerts.md relies on it).

const names = async (metrics: Metrics) =>
  (await metrics.registry.getMetricsAsJSON())
    .map((m) => m.name)
    .filter((n) => n.includes("drift") || n.includes("moved"));

test("driftScanRole: leader, follower, off", async (t) => {
  const metrics = new Metrics();
  t.deepEqual(await names(metrics), [
    "digestpin_drift_total",
    "digestpin_drift_scan_duration_seconds",
    "digestpin_drift_scan_errors_total",
  ]);
  metrics.driftScanRole("leader");
  metrics.pinsMoved.set(1);
  t.deepEqual((await names(metrics)).sort(), [
    "digestpin_drift_scan_duration_seconds",
    "digestpin_drift_scan_errors_total",
    "digestpin_drift_scan_last_success_timestamp_seconds",
    "digestpin_drift_scan_leader",
    "digestpin_drift_total",
    "digestpin_pins_moved",
    "digestpin_pins_moved_oldest_seconds",
  ]);
  t.regex(await metrics.registry.metrics(), /^digestpin_drift_scan_leader 1$/m);
  metrics.driftScanRole("leader"); // again: no double registration
  metrics.driftScanRole("follower");
  const text = await metrics.registry.metrics();
  t.regex(text, /^digestpin_drift_scan_leader 0$/m);
  t.notRegex(text, /^digestpin_pins_moved /m);
  metrics.driftScanRole("off");
  t.notRegex(await metrics.registry.metrics(), /digestpin_drift_scan_leader/);
});
