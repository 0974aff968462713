import type { KubeConfig, V1ConfigMap } from "@kubernetes/client-node";
import { DigestpinError } from "../errors.ts";
import { ConfigMapConflictError, ConfigMaps, dataOf } from "../kube/index.ts";
import { parseReport, renderReport, REPORT_KEY, type DriftReport } from "./report.ts";

/** The report's ConfigMap, in digestpin's namespace. */
export const REPORT_CONFIGMAP = "digestpin-drift";
/** The Lease that elects the replica scanning. */
export const SCAN_LEASE = "digestpin-drift-scan";

const LABELS = { "app.kubernetes.io/name": "digestpin", "digestpin.dev/drift-report": "true" };

/** Reads and writes the drift report ConfigMap (optimistic concurrency, one retry). */
export class ReportStore {
  readonly #configMaps: ConfigMaps;

  constructor(kubeConfig: KubeConfig, namespace: string) {
    this.#configMaps = new ConfigMaps(kubeConfig, namespace);
  }

  get where(): string {
    return `configmap ${this.#configMaps.namespace}/${REPORT_CONFIGMAP}`;
  }

  /** The report, or undefined when no scan wrote one yet; ERR_DRIFT_REPORT when unreadable. */
  async read(): Promise<DriftReport | undefined> {
    const text = dataOf(await this.#configMaps.get(REPORT_CONFIGMAP), REPORT_KEY);
    if (text === undefined) return undefined;
    const report = parseReport(text);
    if (typeof report === "string")
      throw new DigestpinError(
        "ERR_DRIFT_REPORT",
        `${this.where} key ${REPORT_KEY} is not a drift report (${report}); delete it and the next scan writes it anew`,
      );
    return report;
  }

  /** Writes the report, whatever the ConfigMap held (the leader is its only writer). */
  async write(report: DriftReport): Promise<V1ConfigMap> {
    const data = { [REPORT_KEY]: renderReport(report) };
    for (let attempt = 0; ; attempt++) {
      try {
        const current = await this.#configMaps.get(REPORT_CONFIGMAP);
        return current === undefined
          ? await this.#configMaps.create(REPORT_CONFIGMAP, LABELS, data)
          : await this.#configMaps.update(current, data, LABELS);
      } catch (error) {
        if (!(error instanceof ConfigMapConflictError) || attempt > 0) throw error;
      }
    }
  }
}
