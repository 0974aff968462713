import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { isIP } from "node:net";
import { DigestpinError } from "../errors.ts";

/** A certificate the webhook can serve: checked, with the facts the server and metrics need. */
export interface ServingCertificate {
  /** PEM: the leaf certificate first, then any intermediates. */
  readonly cert: string;
  /** PEM private key of the leaf. */
  readonly key: string;
  /** PEM bundle of the CAs clients should trust (the caBundle), when the source knows it. */
  readonly ca?: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Upper-case hex, as node:crypto and openssl print it. */
  readonly serialNumber: string;
  /** SHA-256 fingerprint of the leaf, colon-separated upper-case hex. */
  readonly fingerprint256: string;
  /** The subjectAltName entries of the leaf: DNS names and IP addresses. */
  readonly hosts: readonly string[];
}

/** Certificate or key material that cannot be served (unparsable, or a key of another cert). */
export class TlsMaterialError extends DigestpinError {
  constructor(message: string, options?: ErrorOptions) {
    super("ERR_TLS_MATERIAL", message, options);
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate block of a PEM bundle, each ending in a newline. */
export function splitCertificates(pem: string): string[] {
  return [...pem.matchAll(PEM_CERTIFICATE)].map((match) => `${match[0]}\n`);
}

/** The first certificate of `pem`, parsed; TlsMaterialError when there is none. */
export function parseCertificate(pem: string, what = "certificate"): X509Certificate {
  const first = splitCertificates(pem)[0];
  if (first === undefined) throw new TlsMaterialError(`${what}: no PEM certificate found`);
  try {
    return new X509Certificate(first);
  } catch (error) {
    throw new TlsMaterialError(`${what}: ${(error as Error).message}`, { cause: error });
  }
}

export function parsePrivateKey(pem: string, what = "private key"): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw new TlsMaterialError(`${what}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Checks that `key` is the private key of the first certificate in `cert` and returns what
 * the server serves. A half-written file or a mismatched pair throws TlsMaterialError.
 */
export function servingCertificate(cert: string, key: string, ca?: string): ServingCertificate {
  const leaf = parseCertificate(cert, "serving certificate");
  const privateKey = parsePrivateKey(key, "serving certificate key");
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new TlsMaterialError("the private key does not belong to the serving certificate");
  }
  return {
    cert,
    key,
    ...(ca !== undefined && { ca }),
    notBefore: leaf.validFromDate,
    notAfter: leaf.validToDate,
    serialNumber: leaf.serialNumber,
    fingerprint256: leaf.fingerprint256,
    hosts: subjectAltNames(leaf),
  };
}

/** DNS names and IP addresses of a certificate's subjectAltName, as node:crypto prints them. */
export function subjectAltNames(certificate: X509Certificate): string[] {
  const names = certificate.subjectAltName;
  if (names === undefined) return [];
  return names
    .split(", ")
    .map((entry) => /^(?:DNS|IP Address):(.*)$/.exec(entry)?.[1])
    .filter((name) => name !== undefined);
}

/** Whether a certificate's subjectAltName covers `host` (a DNS name or an IP address). */
export function coversHost(certificate: X509Certificate, host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  return isIP(bare) !== 0
    ? certificate.checkIP(bare) !== undefined
    : certificate.checkHost(bare, { subject: "never" }) !== undefined;
}

/** Whether `ca` signed `certificate` (names and signature; not validity). */
export function issuedBy(certificate: X509Certificate, ca: X509Certificate): boolean {
  return certificate.checkIssued(ca) && certificate.verify(ca.publicKey);
}
