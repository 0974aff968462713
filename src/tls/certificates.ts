import { randomBytes } from "node:crypto";
import { isIP } from "node:net";
import forge from "node-forge";

/** A PEM certificate and its PEM private key. */
export interface CertificatePair {
  readonly cert: string;
  readonly key: string;
}

export interface CertificateOptions {
  readonly commonName: string;
  readonly validDays?: number;
  /** The clock, injected so expiry and renewal are testable. */
  readonly now?: Date;
}

export interface ServingCertificateOptions extends CertificateOptions {
  /** DNS names and IP addresses the certificate is valid for (subjectAltName). */
  readonly hosts: readonly string[];
}

const DAY_MS = 86_400_000;
/** notBefore is set this far before the issuing moment, to tolerate clock skew. */
export const BACKDATE_MS = 5 * 60_000;
// RSA rather than ECDSA: node-forge signs only with RSA. 2048 bits is the floor the
// API server accepts; node-forge generates it with node:crypto, so it takes milliseconds.
const RSA_BITS = 2048;

/** A self-signed certificate authority for signing serving certificates. */
export function createCertificateAuthority(options: CertificateOptions): CertificatePair {
  const keys = forge.pki.rsa.generateKeyPair({ bits: RSA_BITS });
  const cert = baseCertificate(keys.publicKey, options);
  const subject = [{ name: "commonName", value: options.commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return toPair(cert, keys.privateKey);
}

/** A TLS server certificate for `hosts`, signed by `ca`. */
export function createServingCertificate(
  ca: CertificatePair,
  options: ServingCertificateOptions,
): CertificatePair {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key);
  const keys = forge.pki.rsa.generateKeyPair({ bits: RSA_BITS });
  const cert = baseCertificate(keys.publicKey, options);
  // A certificate cannot be valid past its issuer; clamping also absorbs the
  // milliseconds between issuing the CA and the leaf with the same lifetime.
  if (cert.validity.notAfter > caCert.validity.notAfter) {
    cert.validity.notAfter = caCert.validity.notAfter;
  }
  cert.setSubject([{ name: "commonName", value: options.commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectAltName", altNames: options.hosts.map(altName) },
    {
      name: "authorityKeyIdentifier",
      keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes(),
    },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return toPair(cert, keys.privateKey);
}

/** When `certPem` stops being valid. */
export function certificateExpiry(certPem: string): Date {
  return forge.pki.certificateFromPem(certPem).validity.notAfter;
}

function baseCertificate(
  publicKey: forge.pki.rsa.PublicKey,
  options: CertificateOptions,
): forge.pki.Certificate {
  const now = options.now ?? new Date();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // A positive 128-bit serial: the leading 0x01 keeps the DER integer positive.
  cert.serialNumber = "01" + randomBytes(15).toString("hex");
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = new Date(now.getTime() + (options.validDays ?? 365) * DAY_MS);
  return cert;
}

function altName(host: string): { type: number; value?: string; ip?: string } {
  // Types from RFC 5280 GeneralName: 2 = dNSName, 7 = iPAddress.
  const bracketless = host.replace(/^\[(.*)\]$/, "$1");
  return isIP(bracketless) !== 0 ? { type: 7, ip: bracketless } : { type: 2, value: host };
}

function toPair(cert: forge.pki.Certificate, key: forge.pki.rsa.PrivateKey): CertificatePair {
  // node-forge ends PEM lines with CRLF; files and caBundles read better with LF.
  const lf = (pem: string): string => pem.replace(/\r\n/g, "\n");
  return { cert: lf(forge.pki.certificateToPem(cert)), key: lf(forge.pki.privateKeyToPem(key)) };
}
