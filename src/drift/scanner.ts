import type { KubeConfig } from "@kubernetes/client-node";
import { configMapSubject, LeaderElection, type EventRecorder } from "../kube/index.ts";
import type { Logger, Metrics } from "../observability/index.ts";
import { DEFAULT_DRIFT_SCAN, type DriftScanSettings, type PinIndex } from "../policy/index.ts";
import { checkPins, pause, RATE_LIMITED, summarize, type ScanRegistry } from "./check.ts";
import type { RateLimitObservation } from "./rate-limit.ts";
import {
  nextReport,
  oldestMovedSeconds,
  shortDigest,
  workloadText,
  type DriftReport,
  type MovedTag,
} from "./report.ts";
import { ReportStore, SCAN_LEASE } from "./report-store.ts";
import { watchWorkloads, type WorkloadWatch } from "./workload-watch.ts";

export const TAG_MOVED_REASON = "TagMoved";

/** Affected workloads kept per tag in the report (a ConfigMap holds at most 1 MiB). */
const MAX_WORKLOADS = 50;

export interface DriftScannerOptions {
  readonly kubeConfig: KubeConfig;
  /** digestpin's namespace: the Lease and the report live there. */
  readonly namespace: string;
  /** This replica's name among the candidates (the pod name). */
  readonly identity: string;
  /** The pins in force (undefined: no valid policy yet, nothing is scanned). */
  readonly pins: () => PinIndex | undefined;
  /** The policy's `driftScan` (undefined: the defaults), or null with no policy in force. */
  readonly settings: () => DriftScanSettings | undefined | null;
  readonly registry: ScanRegistry;
  readonly events?: EventRecorder | undefined;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly leaseDurationMs?: number;
  readonly retryPeriodMs?: number;
  readonly now?: () => number;
  /** How the leader follows Pods and workloads for the report (default: watchWorkloads). */
  readonly watchWorkloads?: typeof watchWorkloads;
}

/**
 * The drift scan: the replica holding the Lease re-resolves every pinned tag once per
 * `driftScan.interval` (requests spread over it), keeps the report ConfigMap `digestpin-drift`
 * with each moved tag, its change and the workloads using it, records one `TagMoved` Event per
 * tag and new digest, and exports the scan's gauges. The other replicas only wait for the Lease.
 */
export class DriftScanner {
  readonly #options: DriftScannerOptions;
  readonly #election: LeaderElection;
  readonly #store: ReportStore;
  readonly #now: () => number;
  /** Each registry's last rate-limit answer: kept across scans, so a pause outlasts a scan. */
  readonly #rateLimits = new Map<string, RateLimitObservation>();
  /** The last rate-limit wait logged per registry (one line per wait, not per pin). */
  readonly #waitLogged = new Map<string, number>();
  #leading: { abort: AbortController; done: Promise<void> } | undefined;
  #roleTimer: NodeJS.Timeout | undefined;

  constructor(options: DriftScannerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#store = new ReportStore(options.kubeConfig, options.namespace);
    this.#election = new LeaderElection({
      kubeConfig: options.kubeConfig,
      namespace: options.namespace,
      name: SCAN_LEASE,
      identity: options.identity,
      ...(options.leaseDurationMs !== undefined && { leaseDurationMs: options.leaseDurationMs }),
      ...(options.retryPeriodMs !== undefined && { retryPeriodMs: options.retryPeriodMs }),
      onStartedLeading: () => {
        const abort = new AbortController();
        this.#leading = { abort, done: this.#lead(abort.signal) };
        this.#showRole();
      },
      onStoppedLeading: () => {
        this.#leading?.abort.abort();
        this.#showRole();
      },
      logger: options.logger,
    });
  }

  get leading(): boolean {
    return this.#election.leading;
  }

  start(): void {
    this.#showRole();
    this.#roleTimer = setInterval(() => {
      this.#showRole();
    }, 1000);
    this.#roleTimer.unref();
    this.#election.start();
  }

  /** Stops scanning; a leader releases the Lease so another replica takes over at once. */
  async stop(): Promise<void> {
    clearInterval(this.#roleTimer);
    await this.#election.stop();
    const leading = this.#leading;
    leading?.abort.abort();
    await leading?.done;
    this.#options.metrics.driftScanRole("off");
  }

  #interval(): DriftScanSettings | undefined {
    const settings = this.#options.settings();
    if (settings === null) return undefined;
    return settings ?? DEFAULT_DRIFT_SCAN;
  }

  #showRole(): void {
    const settings = this.#interval();
    const off = settings?.intervalMs === 0;
    this.#options.metrics.driftScanRole(
      off ? "off" : this.#election.leading ? "leader" : "follower",
    );
  }

  async #lead(signal: AbortSignal): Promise<void> {
    const { logger } = this.#options;
    let previous: DriftReport | undefined;
    try {
      previous = await this.#store.read();
    } catch (error) {
      logger.warn({ err: error }, "the drift report could not be read; the scan starts a new one");
    }
    if (previous !== undefined) this.#export(previous);
    // Pods and workloads are followed only while the scan is on: a watch of every Pod in the
    // cluster holds them all in memory, and its first list is parsed on the event loop.
    let workloads: WorkloadWatch | undefined;
    let unwatchable = false;
    try {
      // Checked every second, so a new interval (or the scan turned on or off) applies at once.
      let lastStart: number | undefined;
      while (!signal.aborted) {
        const settings = this.#interval();
        if (settings === undefined || settings.intervalMs === 0) {
          await workloads?.stop();
          workloads = undefined;
          await pause(1000, signal);
          continue;
        }
        const wait = (lastStart ?? 0) + settings.intervalMs - this.#now();
        if (lastStart !== undefined && wait > 0) {
          await pause(Math.min(1000, wait), signal);
          continue;
        }
        if (workloads === undefined && !unwatchable) {
          workloads = await this.#watchWorkloads();
          unwatchable = workloads === undefined;
        }
        lastStart = this.#now();
        const report = await this.#scan(previous, settings, workloads, signal);
        if (report !== undefined) previous = report;
      }
    } finally {
      await workloads?.stop();
    }
  }

  /** Pods and workloads followed, or undefined (logged) when they cannot be watched. */
  async #watchWorkloads(): Promise<WorkloadWatch | undefined> {
    const { kubeConfig, logger } = this.#options;
    const workloads = (this.#options.watchWorkloads ?? watchWorkloads)(kubeConfig, logger);
    try {
      await workloads.start();
      return workloads;
    } catch (error) {
      logger.warn(
        { err: error },
        "Pods and workloads cannot be watched: the drift report names no workloads",
      );
      await workloads.stop().catch(() => undefined);
      return undefined;
    }
  }

  /** One scan; the report written, or undefined when the scan was cut short or not written. */
  async #scan(
    previous: DriftReport | undefined,
    settings: DriftScanSettings,
    workloads: WorkloadWatch | undefined,
    signal: AbortSignal,
  ): Promise<DriftReport | undefined> {
    const { logger, metrics, registry } = this.#options;
    const started = this.#now();
    const pins = [...(this.#options.pins()?.records() ?? [])].sort((a, b) =>
      a.key < b.key ? -1 : 1,
    );
    const checks = await checkPins(pins, registry, {
      intervalMs: settings.intervalMs,
      concurrency: settings.concurrency,
      signal,
      now: this.#now,
      rateLimits: this.#rateLimits,
      onRateLimitWait: (_pin, host, until, why) => {
        metrics.driftScanErrors.inc({ reason: RATE_LIMITED });
        if (this.#waitLogged.get(host) === until) return;
        this.#waitLogged.set(host, until);
        logger.info(
          { registry: host, until: new Date(until).toISOString(), reason: RATE_LIMITED },
          `the drift scan waits for ${host}'s rate limit: ${why}`,
        );
      },
    });
    if (signal.aborted) return undefined;
    for (const check of checks)
      if (check.errorCode !== undefined) metrics.driftScanErrors.inc({ reason: check.errorCode });
    const deferred = checks.filter((check) => check.errorCode === RATE_LIMITED).length;
    if (deferred > 0)
      logger.warn(
        { deferred, reason: RATE_LIMITED },
        `the drift scan deferred ${deferred} pinned tag${deferred === 1 ? "" : "s"} to keep within registry rate limits; they are listed unreachable until asked`,
      );
    const now = new Date(this.#now()).toISOString();
    const next = nextReport(
      previous,
      checks.map((check) => check.result),
      { now, by: this.#options.identity },
    );
    const news = new Map((await summarize(next.news, registry, this.#now)).map((e) => [e.tag, e]));
    const inventory = workloads?.inventory();
    const report: DriftReport = {
      ...next.report,
      moved: next.report.moved.map((entry) => {
        const summarized = news.get(entry.tag) ?? entry;
        if (inventory === undefined) return summarized;
        const users = inventory.get(entry.tag) ?? [];
        return { ...summarized, workloads: users.slice(0, MAX_WORKLOADS) };
      }),
    };
    if (!this.#election.holds()) return undefined; // e.g. frozen past the Lease: not ours now
    let written;
    try {
      written = await this.#store.write(report);
    } catch (error) {
      metrics.driftScanErrors.inc({ reason: "report-write" });
      logger.warn({ err: error }, `the drift report could not be written to ${this.#store.where}`);
      return undefined;
    }
    if (aborted(signal)) return report;
    for (const entry of report.moved.filter((e) => news.has(e.tag)))
      await this.#options.events?.warning(
        configMapSubject(written),
        TAG_MOVED_REASON,
        tagMovedMessage(entry),
      );
    this.#export(report);
    metrics.driftScanLastSuccess.set(this.#now() / 1000);
    metrics.driftScanDuration.observe((this.#now() - started) / 1000);
    logger.info(
      {
        checked: report.checked,
        moved: report.moved.length,
        unreachable: report.unreachable.length,
        newlyMoved: [...news.keys()],
      },
      "drift scan done",
    );
    return report;
  }

  #export(report: DriftReport): void {
    this.#options.metrics.pinsMoved.set(report.moved.length);
    this.#options.metrics.pinsMovedOldest.set(oldestMovedSeconds(report, this.#now()));
  }
}

/** The TagMoved Event's message: the tag, both digests, who uses it, what to do. */
export function tagMovedMessage(entry: MovedTag): string {
  const users =
    entry.workloads.length === 0
      ? "No workload uses it now."
      : `Used by ${entry.workloads.slice(0, 5).map(workloadText).join(", ")}${entry.workloads.length > 5 ? ` and ${entry.workloads.length - 5} more` : ""}.`;
  const change = entry.change === undefined ? "" : ` Change: ${entry.change.summary}.`;
  return (
    `${entry.tag} moved: pinned to ${entry.pinned}, the registry now serves ${entry.current}.${change} ${users} ` +
    `Review it with 'digestpin diff ${entry.tag}'; accept it with 'digestpin approve ${entry.tag} --digest ${entry.current} --reason "…"' (${shortDigest(entry.current)}).`
  );
}

/** Whether `signal` aborted by now (a call, so that checks after an await are not narrowed away). */
function aborted(signal: AbortSignal): boolean {
  return signal.aborted;
}
