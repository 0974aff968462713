import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  createCertificateAuthority,
  createServingCertificate,
  type CertificatePair,
} from "../../src/tls/certificates.ts";

/** A serving certificate written to disk, as programs under test want it. */
export interface ServingFiles extends CertificatePair {
  readonly certFile: string;
  readonly keyFile: string;
}

/** A testbed's own certificate authority: clients trust `caFile`, servers get `issue()`d. */
export interface TestCa {
  readonly caPem: string;
  readonly caFile: string;
  /** A serving certificate for `hosts` (DNS names or IP addresses), written to `dir`. */
  issue(name: string, hosts: readonly string[], dir?: string): Promise<ServingFiles>;
}

/** Creates a CA whose files live in `dir` (a temp dir the caller cleans up). */
export async function createTestCa(
  dir: string,
  commonName = "digestpin testbed CA",
): Promise<TestCa> {
  const ca = createCertificateAuthority({ commonName, validDays: 7 });
  const caFile = join(dir, "ca.pem");
  await writeFile(caFile, ca.cert);
  return {
    caPem: ca.cert,
    caFile,
    async issue(name, hosts, certDir = dir) {
      const pair = createServingCertificate(ca, { commonName: name, hosts, validDays: 7 });
      const certFile = join(certDir, `${name}.pem`);
      const keyFile = join(certDir, `${name}-key.pem`);
      await writeFile(certFile, pair.cert);
      await writeFile(keyFile, pair.key, { mode: 0o600 });
      return { ...pair, certFile, keyFile };
    },
  };
}
