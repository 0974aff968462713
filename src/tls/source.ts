import { invariantBroken } from "../errors.ts";
import { silentLogger, type Logger, type Metrics } from "../observability/index.ts";
import type { ServingCertificate } from "./material.ts";

export type TlsMode = "files" | "self-managed" | "ephemeral";

/**
 * Where the webhook's serving certificate comes from. The server builds its TLS context from
 * `current()` after `start()` resolved, and calls `server.setSecureContext(...)` from an
 * `onChange` listener; connections already open keep the certificate they were made with.
 *
 *     await tls.start();
 *     const server = https.createServer(secureContextOptions(tls.current()), app);
 *     tls.onChange((certificate) => server.setSecureContext(secureContextOptions(certificate)));
 */
export interface TlsSource {
  readonly mode: TlsMode;
  /**
   * Loads or obtains the first certificate, then starts watching for new ones. Rejects when
   * there is nothing to serve (files missing or mismatched, the API server refusing).
   */
  start(): Promise<ServingCertificate>;
  /** The certificate to serve now. Throws before `start()` resolved. */
  current(): ServingCertificate;
  /** Called with each new certificate after the first; returns a function that unsubscribes. */
  onChange(listener: (certificate: ServingCertificate) => void): () => void;
  /** Stops watching (files, API server) and timers. Idempotent. */
  stop(): Promise<void>;
}

/** What every source may be given. */
export interface TlsSourceDependencies {
  readonly logger?: Logger;
  /** `certificateExpiry` follows the certificate served. */
  readonly metrics?: Metrics;
}

/** Options for `https.createServer` and `server.setSecureContext`: TLS 1.2 and 1.3 only. */
export interface SecureContextOptions {
  readonly cert: string;
  readonly key: string;
  readonly minVersion: "TLSv1.2";
}

export function secureContextOptions(certificate: ServingCertificate): SecureContextOptions {
  return { cert: certificate.cert, key: certificate.key, minVersion: "TLSv1.2" };
}

/**
 * The certificate a source currently serves and who wants to hear about a new one. Publishing
 * the same certificate again (same fingerprint and key) changes nothing and notifies no one.
 */
export class CertificateSlot {
  #current: ServingCertificate | undefined;
  readonly #listeners = new Set<(certificate: ServingCertificate) => void>();
  readonly #logger: Logger;
  readonly #metrics: Metrics | undefined;

  constructor(dependencies: TlsSourceDependencies) {
    this.#logger = dependencies.logger ?? silentLogger();
    this.#metrics = dependencies.metrics;
  }

  get value(): ServingCertificate | undefined {
    return this.#current;
  }

  current(): ServingCertificate {
    if (this.#current === undefined)
      throw invariantBroken("the TLS source was read before it started");
    return this.#current;
  }

  onChange(listener: (certificate: ServingCertificate) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Makes `certificate` current; returns whether it differs from the one before. */
  publish(certificate: ServingCertificate): boolean {
    const previous = this.#current;
    if (
      previous?.fingerprint256 === certificate.fingerprint256 &&
      previous.key === certificate.key &&
      previous.ca === certificate.ca
    ) {
      return false;
    }
    this.#current = certificate;
    this.#metrics?.certificateExpiry.set(certificate.notAfter.getTime() / 1000);
    this.#logger.info(
      {
        serialNumber: certificate.serialNumber,
        notAfter: certificate.notAfter.toISOString(),
        hosts: certificate.hosts,
      },
      previous === undefined
        ? "serving certificate loaded"
        : previous.fingerprint256 === certificate.fingerprint256
          ? "CA bundle of the serving certificate updated"
          : "serving certificate replaced",
    );
    if (previous === undefined) return true;
    for (const listener of this.#listeners) {
      try {
        listener(certificate);
      } catch (error) {
        this.#logger.error({ err: error }, "a serving certificate listener failed");
      }
    }
    return true;
  }
}
