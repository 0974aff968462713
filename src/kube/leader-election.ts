import type { CoordinationV1Api, V1Lease, KubeConfig } from "@kubernetes/client-node";
import { isApiException, kubeLibrary } from "./library.ts";
import { silentLogger, type Logger } from "../observability/index.ts";
import { explainKubeError, retryTransport } from "./errors.ts";

export interface LeaderElectionOptions {
  readonly kubeConfig: KubeConfig;
  /** Where the Lease lives (coordination.k8s.io/v1). */
  readonly namespace: string;
  readonly name: string;
  /** This candidate's `holderIdentity`: unique among the candidates (the pod name). */
  readonly identity: string;
  /** How long a Lease not renewed stays its holder's (default 15 s). */
  readonly leaseDurationMs?: number;
  /** How long a leader keeps leading without a successful renewal (default 10 s). */
  readonly renewDeadlineMs?: number;
  /** How often candidates try, and the leader renews (default 2 s). */
  readonly retryPeriodMs?: number;
  /** Called when this candidate becomes the leader, and when it stops being it. */
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
  readonly logger?: Logger;
  readonly now?: () => number;
}

export const DEFAULT_LEASE_DURATION_MS = 15_000;

/**
 * Leader election over a coordination.k8s.io Lease, as client-go's leaderelection does it: a
 * candidate takes the Lease when it does not exist, is released (no holder), or was not renewed
 * for its duration as this candidate observed it (its own clock only: no clock skew between
 * replicas matters); the leader renews it every retry period and steps down when it could not
 * for the renew deadline. Every write carries the resourceVersion read, so two candidates never
 * both win. stop() releases a held Lease, so another replica takes over at its next try.
 */
export class LeaderElection {
  readonly #api: CoordinationV1Api;
  readonly #options: LeaderElectionOptions;
  readonly #durationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryMs: number;
  readonly #logger: Logger;
  readonly #now: () => number;
  #leading = false;
  #stopped = true;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  /** The record last observed (holder and renew time) and when, by this candidate's clock. */
  #observed: { key: string; at: number } | undefined;
  #lastRenewal = 0;
  #lastError: string | undefined;

  constructor(options: LeaderElectionOptions) {
    this.#options = options;
    this.#api = options.kubeConfig.makeApiClient(kubeLibrary().CoordinationV1Api);
    this.#durationMs = options.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryMs = options.retryPeriodMs ?? 2_000;
    this.#logger = options.logger ?? silentLogger();
    this.#now = options.now ?? Date.now;
  }

  get leading(): boolean {
    return this.#leading;
  }

  /**
   * Whether this candidate surely still holds the Lease: leading, and renewed within the
   * renew deadline (a process that was frozen is not sure until its next try). Check it
   * right before acting as the leader.
   */
  holds(): boolean {
    return this.#leading && this.#now() - this.#lastRenewal < this.#renewDeadlineMs;
  }

  /** Starts trying (the first try at once); returns without waiting for the outcome. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  /**
   * Stops trying; a leader steps down and releases the Lease (`release: false` leaves it to
   * expire, as a process that died would).
   */
  async stop(options: { readonly release?: boolean } = {}): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
    if (!this.#leading) return;
    this.#setLeading(false);
    if (options.release === false) return;
    await this.#release().catch((error: unknown) => {
      this.#logger.warn({ err: error, lease: this.#where() }, "could not release the Lease");
    });
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#try().finally(() => {
        this.#running = undefined;
        this.#schedule(this.#retryMs);
      });
    }, delayMs);
    this.#timer.unref();
  }

  async #try(): Promise<void> {
    try {
      const won = await this.#tryAcquireOrRenew();
      this.#lastError = undefined;
      if (won) this.#lastRenewal = this.#now();
      if (this.#stopped) return;
      if (won && !this.#leading) this.#setLeading(true);
      if (!won && this.#leading) this.#setLeading(false);
    } catch (error) {
      // Said once while the reason stays the same (a missing namespace or RBAC fails every try).
      const message = error instanceof Error ? error.message : String(error);
      const level = message === this.#lastError ? "debug" : "warn";
      this.#lastError = message;
      this.#logger[level](
        { err: error, lease: this.#where() },
        "leader election: the Lease could not be read or written",
      );
      if (this.#leading && this.#now() - this.#lastRenewal > this.#renewDeadlineMs) {
        this.#setLeading(false);
      }
    }
  }

  #setLeading(leading: boolean): void {
    this.#leading = leading;
    this.#logger.info(
      { lease: this.#where(), identity: this.#options.identity },
      leading ? "became the leader" : "stopped leading",
    );
    if (leading) this.#options.onStartedLeading();
    else this.#options.onStoppedLeading();
  }

  /** True when this candidate holds the Lease after the call. */
  async #tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.#options;
    const now = this.#now();
    const lease = await this.#read();
    if (lease === undefined) {
      try {
        await retryTransport(() =>
          this.#api.createNamespacedLease({ namespace, body: this.#leaseBody(undefined, now) }),
        );
        return true;
      } catch (error) {
        if (isApiException(error) && error.code === 409) return false;
        throw explainKubeError(error, this.#options.kubeConfig, `create lease ${this.#where()}`);
      }
    }
    const spec = lease.spec ?? new (kubeLibrary().V1LeaseSpec)();
    const holder = spec.holderIdentity ?? "";
    const key = `${holder}|${timeText(spec.renewTime)}|${lease.metadata?.resourceVersion ?? ""}`;
    if (this.#observed?.key !== key) this.#observed = { key, at: now };
    const durationMs = (spec.leaseDurationSeconds ?? this.#durationMs / 1000) * 1000;
    const expired = now - this.#observed.at >= durationMs;
    if (holder !== identity && holder !== "" && !expired) return false;
    try {
      await retryTransport(() =>
        this.#api.replaceNamespacedLease({ name, namespace, body: this.#leaseBody(lease, now) }),
      );
      return true;
    } catch (error) {
      if (isApiException(error) && error.code === 409) return false;
      throw explainKubeError(error, this.#options.kubeConfig, `update lease ${this.#where()}`);
    }
  }

  async #read(): Promise<V1Lease | undefined> {
    const { namespace, name } = this.#options;
    try {
      return await retryTransport(() => this.#api.readNamespacedLease({ name, namespace }));
    } catch (error) {
      if (isApiException(error) && error.code === 404) return undefined;
      throw explainKubeError(error, this.#options.kubeConfig, `read lease ${this.#where()}`);
    }
  }

  /** The Lease held by this candidate, renewed now (`current`: as read, else a new one). */
  #leaseBody(current: V1Lease | undefined, now: number): V1Lease {
    const { V1Lease, V1LeaseSpec, V1MicroTime, V1ObjectMeta } = kubeLibrary();
    const { namespace, name, identity } = this.#options;
    const previous = current?.spec;
    const taken = previous?.holderIdentity !== identity;
    const spec = Object.assign(new V1LeaseSpec(), {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.#durationMs / 1000),
      acquireTime: taken ? new V1MicroTime(now) : (previous.acquireTime ?? new V1MicroTime(now)),
      renewTime: new V1MicroTime(now),
      leaseTransitions:
        (previous?.leaseTransitions ?? 0) + (taken && current !== undefined ? 1 : 0),
    });
    return Object.assign(new V1Lease(), {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: Object.assign(new V1ObjectMeta(), {
        name,
        namespace,
        ...(current?.metadata?.resourceVersion !== undefined && {
          resourceVersion: current.metadata.resourceVersion,
        }),
      }),
      spec,
    });
  }

  /** Gives the Lease up (no holder), if this candidate still holds it. */
  async #release(): Promise<void> {
    const { V1LeaseSpec } = kubeLibrary();
    const { namespace, name, identity } = this.#options;
    const lease = await this.#read();
    if (lease?.spec?.holderIdentity !== identity) return;
    const body = this.#leaseBody(lease, this.#now());
    body.spec = Object.assign(new V1LeaseSpec(), lease.spec, {
      holderIdentity: "",
      leaseDurationSeconds: 1,
    });
    await this.#api.replaceNamespacedLease({ name, namespace, body }).catch((error: unknown) => {
      if (isApiException(error) && error.code === 409) return; // taken meanwhile
      throw error;
    });
  }

  #where(): string {
    return `${this.#options.namespace}/${this.#options.name}`;
  }
}

/** A MicroTime as the client hands it back: a string (the library leaves the type alone) or a Date. */
function timeText(time: unknown): string {
  if (time instanceof Date) return time.toISOString();
  return typeof time === "string" ? time : "";
}
