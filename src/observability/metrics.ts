import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { BoundHistogram } from "./bound-histogram.ts";
import { digestpinVersion } from "./build-info.ts";
import { LabelTree } from "./label-tree.ts";

/** One label set of a BoundCounter. */
export interface CounterChild {
  inc(value?: number): void;
}

interface Tally {
  readonly labels: Readonly<Record<string, string>>;
  pending: number;
}

/**
 * A prom-client Counter whose label sets are bound once: `labels(…values)` finds that set's
 * tally (nested Maps keyed by the values, no string built), `inc` adds to it, and prom-client's
 * counter is told the tallies whenever the registry is read (its `collect` hook), so /metrics
 * shows every increment. prom-client's own `inc(labels)` sorts, hashes and validates the labels
 * on every call (several per review); here that happens once per scrape and label set.
 */
export class BoundCounter<L extends string> {
  readonly counter: Counter<L>;
  readonly #children: LabelTree<CounterChild>;
  readonly #tallies: Tally[] = [];

  constructor(config: {
    name: string;
    help: string;
    labelNames: readonly L[];
    registers: Registry[];
  }) {
    this.#children = new LabelTree(config.name, config.labelNames);
    this.counter = new Counter<L>({
      ...config,
      collect: () => {
        this.#flush();
      },
    });
  }

  /** The child of these label values, in `labelNames` order. */
  labels(...values: string[]): CounterChild {
    return this.#children.find(values, (labels) => {
      const tally: Tally = { labels, pending: 0 };
      this.#tallies.push(tally);
      return {
        inc(by = 1) {
          if (!(by >= 0 && Number.isFinite(by)))
            throw new TypeError(`counter increment ${String(by)}`);
          tally.pending += by;
        },
      };
    });
  }

  #flush(): void {
    for (const tally of this.#tallies) {
      if (tally.pending === 0) continue;
      this.counter.inc(tally.labels as Partial<Record<L, string>>, tally.pending);
      tally.pending = 0;
    }
  }
}

/**
 * Every metric digestpin exports, on one registry (injected, so tests and several servers in one
 * process do not share counters). Labels are bounded sets: reasons, decisions, codes, registries
 * from the policy — never image names or namespaces.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly reviews = new BoundCounter({
    name: "digestpin_admission_reviews_total",
    help: "Admission reviews answered, by endpoint, operation and outcome.",
    labelNames: ["endpoint", "operation", "decision"] as const,
    registers: [this.registry],
  });

  readonly images = new BoundCounter({
    name: "digestpin_image_decisions_total",
    help: "Decisions on single image references, by action and reason.",
    labelNames: ["endpoint", "action", "reason"] as const,
    registers: [this.registry],
  });

  readonly reviewDuration = new BoundHistogram({
    name: "digestpin_admission_review_duration_seconds",
    help: "Time to answer an admission review.",
    labelNames: ["endpoint"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly drift = new BoundCounter({
    name: "digestpin_drift_total",
    help:
      "Images whose pinned tag the registry now serves at another digest, by what admission " +
      "did: denied, admitted-at-pin or admitted-unchanged (mode warn or audit).",
    labelNames: ["action"] as const,
    registers: [this.registry],
  });

  readonly registryRequests = new BoundCounter({
    name: "digestpin_registry_requests_total",
    help: "Registry manifest requests (answers from the cache not included), by registry and outcome (ok or an error code).",
    labelNames: ["registry", "outcome"] as const,
    registers: [this.registry],
  });

  readonly cacheLookups = new BoundCounter({
    name: "digestpin_registry_cache_lookups_total",
    help: "Registry answer cache lookups, by result (hit or miss).",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });

  readonly ready = new Gauge({
    name: "digestpin_ready",
    help: "1 when this replica is ready to answer reviews (as /readyz says), 0 otherwise.",
    registers: [this.registry],
  });

  readonly policyGeneration = new Gauge({
    name: "digestpin_policy_generation",
    help: "Incremented each time a new valid policy takes effect.",
    registers: [this.registry],
  });

  readonly policyValid = new Gauge({
    name: "digestpin_policy_valid",
    help: "1 when the latest policy edit was valid, 0 while the last good policy is kept.",
    registers: [this.registry],
  });

  readonly policyPins = new Gauge({
    name: "digestpin_policy_pins",
    help: "Pins in the policy in force.",
    registers: [this.registry],
  });

  readonly policyErrors = new Counter({
    name: "digestpin_policy_load_errors_total",
    help: "Policy loads rejected as invalid (the last good policy stays in force).",
    registers: [this.registry],
  });

  readonly connections = new Counter({
    name: "digestpin_webhook_connections_total",
    help: "TLS connections accepted on the webhook port (each a handshake; kept-alive ones serve many reviews).",
    registers: [this.registry],
  });

  readonly certificateExpiry = new Gauge({
    name: "digestpin_certificate_expiry_timestamp_seconds",
    help: "When the serving certificate expires (Unix time).",
    registers: [this.registry],
  });

  // The drift scan (docs/drift.md). The gauges below are on the registry only while this
  // replica's role asks for them (driftScanRole): the leader's alone, so alerts never see two.
  readonly pinsMoved = new Gauge({
    name: "digestpin_pins_moved",
    help: "Pinned tags whose registry digest moved and that are not approved (scan leader only).",
    registers: [],
  });

  readonly pinsMovedOldest = new Gauge({
    name: "digestpin_pins_moved_oldest_seconds",
    help: "Seconds since the oldest moved, unapproved tag was first seen (scan leader only).",
    registers: [],
  });

  readonly driftScanLastSuccess = new Gauge({
    name: "digestpin_drift_scan_last_success_timestamp_seconds",
    help: "When the drift scan last completed and wrote its report (Unix time; 0: not yet).",
    registers: [],
  });

  readonly driftScanLeader = new Gauge({
    name: "digestpin_drift_scan_leader",
    help: "1 on the replica holding the drift scan Lease, 0 on the others; absent when the scan is off.",
    registers: [],
  });

  readonly driftScanDuration = new Histogram({
    name: "digestpin_drift_scan_duration_seconds",
    help: "How long a drift scan took, from its first request to its report written.",
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200],
    registers: [this.registry],
  });

  readonly driftScanErrors = new Counter({
    name: "digestpin_drift_scan_errors_total",
    help: "Drift scan failures, by reason: a registry error code (the tag is unreachable, never drift) or report-write.",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });

  /** Which drift scan gauges this replica exports: none (off), the Lease's, or all (leader). */
  driftScanRole(role: "off" | "follower" | "leader"): void {
    const leaderOnly = [this.pinsMoved, this.pinsMovedOldest, this.driftScanLastSuccess];
    const show = (gauge: Gauge, shown: boolean) => {
      const name = (gauge as unknown as { name: string }).name;
      const registered = this.registry.getSingleMetric(name) !== undefined;
      if (shown && !registered) this.registry.registerMetric(gauge);
      if (!shown && registered) this.registry.removeSingleMetric(name);
    };
    for (const gauge of leaderOnly) show(gauge, role === "leader");
    show(this.driftScanLeader, role !== "off");
    this.driftScanLeader.set(role === "leader" ? 1 : 0);
  }

  readonly buildInfo = new Gauge({
    name: "digestpin_build_info",
    help: "Always 1; the labels say which digestpin and which Node.js runs.",
    labelNames: ["version", "node"] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    this.buildInfo.set({ version: digestpinVersion, node: process.version }, 1);
    if (options.processMetrics === true) collectDefaultMetrics({ register: this.registry });
  }
}
