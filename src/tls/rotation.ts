import type { KeyObject, X509Certificate } from "node:crypto";
import { BACKDATE_MS } from "./certificates.ts";
import {
  coversHost,
  issuedBy,
  parseCertificate,
  parsePrivateKey,
  splitCertificates,
} from "./material.ts";

/** What a self-managed Secret holds (each PEM; "" for a key the Secret lacks). */
export interface TlsSecretData {
  /** `ca.crt`: the CAs the webhook configurations trust, the signing CA first. */
  readonly caBundle: string;
  /** `ca.key`: the signing CA's private key. */
  readonly caKey: string;
  /** `tls.crt`: the serving certificate. */
  readonly cert: string;
  /** `tls.key`: its private key. */
  readonly key: string;
}

/** When certificates are renewed, and how long a CA change takes to settle. */
export interface RotationPolicy {
  /** Lifetime of a serving certificate (365 days). */
  readonly certificateDays: number;
  /** Lifetime of a CA (3650 days). */
  readonly caDays: number;
  /** A certificate is renewed once this fraction of its lifetime has passed (2/3). */
  readonly renewFraction: number;
  /**
   * How long a new CA is in the webhook configurations before a serving certificate it signed
   * is served (2 minutes), so that every API server has seen the new caBundle by then.
   */
  readonly propagationMs: number;
  /**
   * How long the previous CA stays in the caBundle after the serving certificate moved to the
   * new CA (24 hours), so that every replica has switched by then.
   */
  readonly overlapMs: number;
}

export const DEFAULT_ROTATION: RotationPolicy = {
  certificateDays: 365,
  caDays: 3650,
  renewFraction: 2 / 3,
  propagationMs: 2 * 60_000,
  overlapMs: 24 * 3_600_000,
};

/** The moment a certificate valid from `notBefore` to `notAfter` is due for renewal. */
export function renewalTime(notBefore: Date, notAfter: Date, fraction: number): Date {
  const lifetime = notAfter.getTime() - notBefore.getTime();
  return new Date(notBefore.getTime() + lifetime * fraction);
}

/** Whether a certificate is due for renewal at `now`. */
export function renewalDue(
  certificate: { readonly notBefore: Date; readonly notAfter: Date },
  now: Date,
  fraction: number = DEFAULT_ROTATION.renewFraction,
): boolean {
  return now >= renewalTime(certificate.notBefore, certificate.notAfter, fraction);
}

export interface CaFacts {
  readonly pem: string;
  readonly cert: X509Certificate;
  /** When it was made (notBefore is back-dated by BACKDATE_MS). */
  readonly issuedAt: Date;
  readonly renewAt: Date;
}

export interface LeafFacts {
  readonly cert: X509Certificate;
  readonly issuedAt: Date;
  readonly renewAt: Date;
  readonly bySigner: boolean;
}

/** What the Secret's contents amount to at `now` for `hosts`. */
export interface TlsAnalysis {
  /** The signing CA, when it is a CA, unexpired and its key matches. */
  readonly signer?: CaFacts & { readonly key: KeyObject };
  /** The other unexpired CAs of the bundle. */
  readonly others: readonly CaFacts[];
  /** The serving certificate, when it can be served: see `leafProblem`. */
  readonly leaf?: LeafFacts;
  /** Why the serving certificate cannot be served, when it cannot. */
  readonly leafProblem?: string;
  readonly signerProblem?: string;
}

export function analyze(
  data: TlsSecretData,
  hosts: readonly string[],
  now: Date,
  policy: RotationPolicy,
): TlsAnalysis {
  const cas = splitCertificates(data.caBundle)
    .map((pem) => caFacts(pem, policy))
    .filter((ca): ca is CaFacts => ca !== undefined && ca.cert.ca && ca.cert.validToDate > now);
  const [first, ...rest] = cas;
  let signer: TlsAnalysis["signer"];
  let signerProblem: string | undefined;
  if (first === undefined || splitCertificates(data.caBundle)[0] !== first.pem) {
    signerProblem = "no valid CA certificate";
  } else {
    try {
      const key = parsePrivateKey(data.caKey, "CA key");
      if (first.cert.checkPrivateKey(key)) signer = { ...first, key };
      else signerProblem = "the CA key does not belong to the CA certificate";
    } catch (error) {
      signerProblem = (error as Error).message;
    }
  }
  const others = signer === undefined ? cas : rest;
  const trusted = [...(signer ? [signer] : []), ...others];
  const leaf = leafFacts(data, { signer, trusted, hosts, now, policy });
  return {
    ...(signer !== undefined && { signer }),
    ...(signerProblem !== undefined && { signerProblem }),
    others,
    ...("problem" in leaf ? { leafProblem: leaf.problem } : { leaf: leaf.facts }),
  };
}

function leafFacts(
  data: TlsSecretData,
  context: {
    signer: TlsAnalysis["signer"];
    trusted: readonly CaFacts[];
    hosts: readonly string[];
    now: Date;
    policy: RotationPolicy;
  },
): { facts: LeafFacts } | { problem: string } {
  const { signer, trusted, hosts, now, policy } = context;
  let cert: X509Certificate;
  try {
    cert = parseCertificate(data.cert, "serving certificate");
    if (!cert.checkPrivateKey(parsePrivateKey(data.key, "serving certificate key"))) {
      return { problem: "the key does not belong to the serving certificate" };
    }
  } catch (error) {
    return { problem: (error as Error).message };
  }
  if (cert.validToDate <= now) return { problem: "the serving certificate has expired" };
  const missing = hosts.filter((host) => !coversHost(cert, host));
  if (missing.length > 0) return { problem: `the serving certificate lacks ${missing.join(", ")}` };
  if (!trusted.some((ca) => issuedBy(cert, ca.cert))) {
    return { problem: "no CA of the bundle signed the serving certificate" };
  }
  return {
    facts: {
      cert,
      issuedAt: issuedAt(cert),
      renewAt: renewalTime(cert.validFromDate, cert.validToDate, policy.renewFraction),
      bySigner: signer !== undefined && issuedBy(cert, signer.cert),
    },
  };
}

function caFacts(pem: string, policy: RotationPolicy): CaFacts | undefined {
  try {
    const cert = parseCertificate(pem, "CA certificate");
    return {
      pem,
      cert,
      issuedAt: issuedAt(cert),
      renewAt: renewalTime(cert.validFromDate, cert.validToDate, policy.renewFraction),
    };
  } catch {
    return undefined;
  }
}

function issuedAt(cert: X509Certificate): Date {
  return new Date(cert.validFromDate.getTime() + BACKDATE_MS);
}
