import { randomBytes } from "node:crypto";
import type { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { kubeLibrary } from "./library.ts";
import { silentLogger, type Logger } from "../observability/index.ts";

export interface EventRecorderOptions {
  /** `source.component` and `reportingComponent` of the Events (default "digestpin"). */
  readonly component?: string;
  /** `reportingInstance`, e.g. the pod name. */
  readonly instance?: string;
  readonly logger?: Logger;
  readonly now?: () => Date;
}

/** The object an Event is about (its involvedObject); it need not exist (a denied Pod does not). */
export interface EventSubject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string | undefined;
  readonly resourceVersion?: string | undefined;
}

/** A ConfigMap as an Event's subject. */
export function configMapSubject(configMap: {
  readonly metadata?: {
    readonly namespace?: string;
    readonly name?: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
  };
}): EventSubject {
  const metadata = configMap.metadata ?? {};
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    namespace: metadata.namespace ?? "default",
    name: metadata.name ?? "",
    uid: metadata.uid,
    resourceVersion: metadata.resourceVersion,
  };
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
    this.#api = kubeConfig.makeApiClient(kubeLibrary().CoreV1Api);
    this.#component = options.component ?? "digestpin";
    this.#instance = options.instance;
    this.#logger = options.logger ?? silentLogger();
    this.#now = options.now ?? (() => new Date());
  }

  async warning(subject: EventSubject, reason: string, message: string): Promise<void> {
    const { CoreV1Event, V1EventSource, V1ObjectMeta, V1ObjectReference } = kubeLibrary();
    const { namespace, name } = subject;
    const now = this.#now();
    const text =
      message.length <= MESSAGE_LIMIT ? message : `${message.slice(0, MESSAGE_LIMIT - 1)}…`;
    const involved = Object.assign(new V1ObjectReference(), {
      apiVersion: subject.apiVersion,
      kind: subject.kind,
      namespace,
      name,
      ...(subject.uid !== undefined && subject.uid !== "" && { uid: subject.uid }),
      ...(subject.resourceVersion !== undefined && { resourceVersion: subject.resourceVersion }),
    });
    const body = Object.assign(new CoreV1Event(), {
      metadata: Object.assign(new V1ObjectMeta(), {
        name: `${eventNamePrefix(name)}.${randomBytes(8).toString("hex")}`,
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
        { err: error, object: `${subject.kind} ${namespace}/${name}`, reason },
        "could not record a Kubernetes Event",
      );
    }
  }
}

/** An Event name's prefix from the object's name: a DNS subdomain (a generated name's "…" dropped). */
function eventNamePrefix(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, "")
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "")
    .slice(0, 200);
  return cleaned === "" ? "object" : cleaned;
}
