import { randomBytes } from "node:crypto";
import {
  CoreV1Api,
  CoreV1Event,
  V1EventSource,
  V1ObjectMeta,
  V1ObjectReference,
  type KubeConfig,
  type V1ConfigMap,
} from "@kubernetes/client-node";
import { silentLogger, type Logger } from "../observability/logger.ts";

export interface EventRecorderOptions {
  /** `source.component` and `reportingComponent` of the Events (default "digestpin"). */
  readonly component?: string;
  /** `reportingInstance`, e.g. the pod name. */
  readonly instance?: string;
  readonly logger?: Logger;
  readonly now?: () => Date;
}

/** Longer messages are cut: `kubectl describe` shows Events in one table row. */
const MESSAGE_LIMIT = 4000;

/**
 * Records Kubernetes Events (core/v1) about objects, e.g. a Warning `InvalidPolicy` on the
 * ConfigMap whose edit was rejected, so `kubectl describe configmap` and `kubectl get events`
 * show it. Recording never throws: a failure is logged, the Event is best effort.
 */
export class EventRecorder {
  readonly #api: CoreV1Api;
  readonly #component: string;
  readonly #instance: string | undefined;
  readonly #logger: Logger;
  readonly #now: () => Date;

  constructor(kubeConfig: KubeConfig, options: EventRecorderOptions = {}) {
    this.#api = kubeConfig.makeApiClient(CoreV1Api);
    this.#component = options.component ?? "digestpin";
    this.#instance = options.instance;
    this.#logger = options.logger ?? silentLogger();
    this.#now = options.now ?? (() => new Date());
  }

  async warning(object: V1ConfigMap, reason: string, message: string): Promise<void> {
    const metadata = object.metadata ?? new V1ObjectMeta();
    const namespace = metadata.namespace ?? "default";
    const now = this.#now();
    const text =
      message.length <= MESSAGE_LIMIT ? message : `${message.slice(0, MESSAGE_LIMIT - 1)}…`;
    const involved = Object.assign(new V1ObjectReference(), {
      apiVersion: "v1",
      kind: "ConfigMap",
      namespace,
      name: metadata.name,
      uid: metadata.uid,
      resourceVersion: metadata.resourceVersion,
    });
    const body = Object.assign(new CoreV1Event(), {
      metadata: Object.assign(new V1ObjectMeta(), {
        name: `${metadata.name ?? "object"}.${randomBytes(8).toString("hex")}`,
        namespace,
      }),
      involvedObject: involved,
      type: "Warning",
      reason,
      message: text,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: Object.assign(new V1EventSource(), { component: this.#component }),
      reportingComponent: this.#component,
      reportingInstance: this.#instance ?? "",
    });
    try {
      await this.#api.createNamespacedEvent({ namespace, body });
    } catch (error) {
      this.#logger.warn(
        { err: error, object: `${namespace}/${metadata.name ?? ""}`, reason },
        "could not record a Kubernetes Event",
      );
    }
  }
}
