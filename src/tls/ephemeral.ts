import { createCertificateAuthority, createServingCertificate } from "./certificates.ts";
import { servingCertificate, type ServingCertificate } from "./material.ts";
import { CertificateSlot, type TlsSource, type TlsSourceDependencies } from "./source.ts";

export interface EphemeralTlsOptions extends TlsSourceDependencies {
  /** DNS names and IP addresses to serve (default localhost, 127.0.0.1 and ::1). */
  readonly hosts?: readonly string[];
  readonly validDays?: number;
  readonly now?: () => Date;
}

export const DEFAULT_EPHEMERAL_HOSTS: readonly string[] = ["localhost", "127.0.0.1", "::1"];

/**
 * A CA and a serving certificate made in memory at start, for `make run` and tests. Nothing is
 * written anywhere; `current().ca` is the CA to trust (curl --cacert). Never renewed.
 */
export function ephemeralTlsSource(options: EphemeralTlsOptions = {}): TlsSource {
  const slot = new CertificateSlot(options);
  const hosts = options.hosts ?? DEFAULT_EPHEMERAL_HOSTS;
  return {
    mode: "ephemeral",
    start(): Promise<ServingCertificate> {
      if (slot.value === undefined) {
        const now = options.now?.() ?? new Date();
        const validDays = options.validDays ?? 365;
        const ca = createCertificateAuthority({
          commonName: "digestpin ephemeral CA",
          validDays,
          now,
        });
        const leaf = createServingCertificate(ca, {
          commonName: hosts[0] ?? "localhost",
          hosts,
          validDays,
          now,
        });
        slot.publish(servingCertificate(leaf.cert, leaf.key, ca.cert));
      }
      return Promise.resolve(slot.current());
    },
    current: () => slot.current(),
    onChange: (listener) => slot.onChange(listener),
    stop: () => Promise.resolve(),
  };
}
