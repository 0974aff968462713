import type { KubernetesObjectApi, KubeConfig } from "@kubernetes/client-node";
import { kubeLibrary } from "../kube/index.ts";
import { DigestpinError } from "../errors.ts";
import { silentLogger, type Logger } from "../observability/index.ts";
import { syncCaBundle, type WebhookConfigurationRef } from "./ca-bundle.ts";
import { certificateHosts } from "./hosts.ts";
import { TlsMaterialError, type ServingCertificate } from "./material.ts";
import { initialData, nextCheck, planCa, planLeaf, servable, type PlanContext } from "./plan.ts";
import { DEFAULT_ROTATION, type RotationPolicy } from "./rotation.ts";
import { CertificateSlot, type TlsSource, type TlsSourceDependencies } from "./source.ts";
import {
  decodeTlsSecret,
  TlsSecretStore,
  type SecretObject,
  type StoredTlsSecret,
} from "./tls-secret.ts";
import { watchByName, type NamedWatch } from "./tls-watch.ts";

/** How often the Secret and certificates are checked at least, whatever their dates say. */
export const RESYNC_MS = 10 * 60_000;
/** How soon a failed or incomplete reconciliation (API server away, a conflict) is retried. */
export const RETRY_MS = 30_000;
/** Quiet time after a watch event before reconciling. */
export const DEBOUNCE_MS = 1_000;

export interface SelfManagedTlsOptions extends TlsSourceDependencies {
  readonly kubeConfig: KubeConfig;
  /** The webhook's namespace: the Secret lives there, the Service's names use it. */
  readonly namespace: string;
  /** The Service in front of the webhook; its DNS names go into the certificate. */
  readonly service: string;
  /** The Secret holding the CA and serving certificate (created when missing). */
  readonly secretName: string;
  /** More DNS names or IP addresses for the certificate. */
  readonly hosts?: readonly string[];
  /** Configurations whose webhooks get the caBundle (only that field is written). */
  readonly mutatingWebhookConfiguration?: string;
  readonly validatingWebhookConfiguration?: string;
  readonly rotation?: Partial<RotationPolicy>;
  /** The clock; injected in tests to simulate expiry. */
  readonly now?: () => Date;
  /** Check at least this often (RESYNC_MS), whatever the certificates' dates say. */
  readonly resyncMs?: number;
  /** Retry a failed or incomplete reconciliation after this long (RETRY_MS). */
  readonly retryMs?: number;
  /** Quiet time after a watch event before reconciling (DEBOUNCE_MS). */
  readonly debounceMs?: number;
}

/** Reconciliations in a row that lose a race before one gives up (and is retried later). */
const MAX_ROUNDS = 10;

/**
 * The CA and serving certificate kept in a Secret, for any number of replicas. Each replica
 * reconciles: create the Secret if missing (the first create wins, the others read it), renew
 * the CA or the serving certificate when due (a write conditional on the resourceVersion read;
 * the loser reads again), publish the Secret's CA bundle to the webhook configurations, and
 * serve the Secret's certificate. A watch on the Secret lets every replica serve a renewal at
 * once; a watch on the configurations restores a caBundle someone overwrote.
 */
export class SelfManagedTlsSource implements TlsSource {
  readonly mode = "self-managed";
  readonly #options: SelfManagedTlsOptions;
  readonly #slot: CertificateSlot;
  readonly #logger: Logger;
  readonly #objects: KubernetesObjectApi;
  readonly #store: TlsSecretStore;
  readonly #hosts: readonly string[];
  readonly #policy: RotationPolicy;
  readonly #configurations: readonly WebhookConfigurationRef[];
  readonly #watches: NamedWatch[] = [];
  readonly #seen = new Map<string, string>();
  #queued: Promise<void> | undefined;
  #tail: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: SelfManagedTlsOptions) {
    this.#options = options;
    this.#slot = new CertificateSlot(options);
    this.#logger = (options.logger ?? silentLogger()).child({ component: "tls" });
    this.#objects = kubeLibrary().KubernetesObjectApi.makeApiClient(options.kubeConfig);
    this.#store = new TlsSecretStore(this.#objects, {
      namespace: options.namespace,
      name: options.secretName,
    });
    this.#hosts = certificateHosts(options.service, options.namespace, options.hosts);
    this.#policy = { ...DEFAULT_ROTATION, ...options.rotation };
    const { mutatingWebhookConfiguration: mutating, validatingWebhookConfiguration: validating } =
      options;
    const configurations: WebhookConfigurationRef[] = [];
    if (mutating !== undefined) {
      configurations.push({ kind: "MutatingWebhookConfiguration", name: mutating });
    }
    if (validating !== undefined) {
      configurations.push({ kind: "ValidatingWebhookConfiguration", name: validating });
    }
    this.#configurations = configurations;
  }

  /** Reconciles once (rejecting if that fails), then watches and renews in the background. */
  async start(): Promise<ServingCertificate> {
    try {
      await this.reconcile();
    } catch (error) {
      await this.stop(); // no retries in the background of a source that failed to start
      throw error;
    }
    const { kubeConfig, namespace, secretName } = this.#options;
    const logger = this.#logger;
    const watch = (path: string, name: string, key: string, onEvent: (o: SecretObject) => void) => {
      this.#watches.push(
        watchByName(kubeConfig, { path, name, logger }, (type, object) => {
          const version = `${type}/${object.metadata?.resourceVersion ?? ""}`;
          if (this.#seen.get(key) === version) return;
          this.#seen.set(key, version);
          onEvent(type === "DELETED" ? {} : object);
        }),
      );
    };
    watch(`/api/v1/namespaces/${namespace}/secrets`, secretName, "secret", (secret) => {
      this.#adopt(decodeTlsSecret(secret));
      this.#reconcileSoon();
    });
    for (const { kind, name } of this.#configurations) {
      const resource = `${kind.toLowerCase()}s`;
      watch(`/apis/admissionregistration.k8s.io/v1/${resource}`, name, kind, () => {
        this.#reconcileSoon();
      });
    }
    return this.#slot.current();
  }

  current(): ServingCertificate {
    return this.#slot.current();
  }

  onChange(listener: (certificate: ServingCertificate) => void): () => void {
    return this.#slot.onChange(listener);
  }

  /**
   * Brings the Secret, the caBundles and the certificate served up to date now. Calls made
   * while one runs share the next run.
   */
  reconcile(): Promise<void> {
    if (this.#queued === undefined) {
      const run = this.#tail.then(() => {
        this.#queued = undefined;
        return this.#stopped ? undefined : this.#reconcileOnce();
      });
      this.#queued = run;
      this.#tail = run.catch(() => undefined);
    }
    return this.#queued;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#debounce);
    for (const watch of this.#watches.splice(0)) watch.stop();
    await this.#tail;
  }

  async #reconcileOnce(): Promise<void> {
    let delay: number;
    try {
      delay = await this.#converge();
    } catch (error) {
      this.#logger.error({ err: error }, "cannot reconcile the webhook's TLS Secret");
      this.#schedule(this.#options.retryMs ?? RETRY_MS);
      throw error;
    }
    this.#schedule(delay);
  }

  /** One pass; returns the delay until the next (ms). */
  async #converge(): Promise<number> {
    const resync = this.#options.resyncMs ?? RESYNC_MS;
    for (let round = 1; round <= MAX_ROUNDS; round++) {
      let stored = await this.#store.read();
      if (stored === undefined) {
        stored = await this.#store.create(initialData(this.#context()));
        if (stored === undefined) continue; // another replica created it: read theirs
        this.#log(stored, "created the TLS Secret with a new CA and serving certificate");
      }
      const caStep = planCa(stored.data, this.#context());
      if (caStep !== undefined) {
        const written = await this.#store.replace(stored, caStep.data);
        if (written === undefined) continue;
        this.#log(written, `TLS Secret updated (CA): ${caStep.reason}`);
        stored = written;
      }
      const published = await this.#publish(stored.data.caBundle);
      const leafStep = planLeaf(stored.data, {
        ...this.#context(),
        bundlePublished: published.complete && !published.changed,
      });
      if (leafStep !== undefined) {
        const written = await this.#store.replace(stored, leafStep.data);
        if (written === undefined) continue;
        this.#log(written, `TLS Secret updated (serving certificate): ${leafStep.reason}`);
        stored = written;
      }
      if (this.#stopped) return resync;
      if (!this.#adopt(stored))
        throw new TlsMaterialError("the TLS Secret holds no certificate to serve");
      const context = this.#context();
      const due = nextCheck(stored.data, context)?.getTime() ?? Infinity;
      let delay = Math.min(resync, Math.max(0, due - context.now.getTime()));
      if (published.changed) delay = Math.min(delay, this.#policy.propagationMs);
      if (!published.complete) delay = Math.min(delay, this.#options.retryMs ?? RETRY_MS);
      return delay;
    }
    throw new DigestpinError(
      "ERR_TLS_SECRET_CONFLICT",
      `the TLS Secret kept changing during ${MAX_ROUNDS} attempts to update it`,
    );
  }

  /** Writes the caBundle into the configurations: whether all exist, whether any changed. */
  async #publish(caBundle: string): Promise<{ complete: boolean; changed: boolean }> {
    let complete = true;
    let changed = false;
    for (const configuration of this.#configurations) {
      const outcome = await syncCaBundle(this.#objects, configuration, caBundle);
      if (outcome === "missing") {
        complete = false;
        this.#logger.warn(configuration, "webhook configuration not found; its caBundle waits");
      } else if (outcome === "patched") {
        changed = true;
        this.#logger.info(configuration, "caBundle of the webhook configuration updated");
      }
    }
    return { complete, changed };
  }

  /** Serves the Secret's certificate if it can be served; returns whether it can. */
  #adopt(stored: StoredTlsSecret): boolean {
    if (this.#stopped) return false;
    const certificate = servable(stored.data, this.#context());
    if (certificate === undefined) return false;
    this.#slot.publish(certificate);
    return true;
  }

  #reconcileSoon(): void {
    if (this.#stopped) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.reconcile().catch(() => undefined); // logged; retried by the timer
    }, this.#options.debounceMs ?? DEBOUNCE_MS);
    this.#debounce.unref();
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    // setTimeout holds at most 2^31-1 ms; the resync interval is far below that.
    this.#timer = setTimeout(
      () => {
        this.reconcile().catch(() => undefined);
      },
      Math.min(delayMs, 2 ** 31 - 1),
    );
    this.#timer.unref();
  }

  #context(): PlanContext {
    return {
      hosts: this.#hosts,
      now: this.#options.now?.() ?? new Date(),
      policy: this.#policy,
    };
  }

  #log(stored: StoredTlsSecret, message: string): void {
    this.#logger.info(
      { secret: this.#store.ref, resourceVersion: stored.resourceVersion },
      message,
    );
  }
}
