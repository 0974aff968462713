import { generateKeyPairSync, randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  createCertificateAuthority,
  createServingCertificate,
} from "../../src/tls/certificates.ts";

/** The files a control plane's programs read: TLS, service-account keys and the token file. */
export interface ControlPlanePki {
  readonly caPem: string;
  readonly caCertFile: string;
  readonly caKeyFile: string;
  readonly servingCertFile: string;
  readonly servingKeyFile: string;
  /** Signs service-account tokens (apiserver) and legacy token Secrets (controller-manager). */
  readonly serviceAccountKeyFile: string;
  readonly serviceAccountPublicKeyFile: string;
  /** `--token-auth-file`: one admin in `system:masters`. */
  readonly tokenFile: string;
  readonly adminToken: string;
}

/** The first address of `--service-cluster-ip-range`: the `kubernetes` Service's ClusterIP. */
export const SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24";
const KUBERNETES_SERVICE_IP = "10.0.0.1";

/** Creates a test CA, the API server's serving certificate, keys and the admin token in `dir`. */
export async function writeControlPlanePki(dir: string): Promise<ControlPlanePki> {
  const ca = createCertificateAuthority({ commonName: "digestpin testbed control plane CA" });
  const serving = createServingCertificate(ca, {
    commonName: "kube-apiserver",
    hosts: [
      "127.0.0.1",
      "localhost",
      KUBERNETES_SERVICE_IP,
      "kubernetes",
      "kubernetes.default",
      "kubernetes.default.svc",
      "kubernetes.default.svc.cluster.local",
    ],
  });
  const serviceAccount = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const adminToken = randomBytes(24).toString("hex");
  const pki: ControlPlanePki = {
    caPem: ca.cert,
    caCertFile: join(dir, "ca.crt"),
    caKeyFile: join(dir, "ca.key"),
    servingCertFile: join(dir, "apiserver.crt"),
    servingKeyFile: join(dir, "apiserver.key"),
    serviceAccountKeyFile: join(dir, "sa.key"),
    serviceAccountPublicKeyFile: join(dir, "sa.pub"),
    tokenFile: join(dir, "tokens.csv"),
    adminToken,
  };
  const secret = { mode: 0o600 } as const;
  await Promise.all([
    writeFile(pki.caCertFile, ca.cert),
    writeFile(pki.caKeyFile, ca.key, secret),
    writeFile(pki.servingCertFile, serving.cert),
    writeFile(pki.servingKeyFile, serving.key, secret),
    writeFile(pki.serviceAccountKeyFile, serviceAccount.privateKey, secret),
    writeFile(pki.serviceAccountPublicKeyFile, serviceAccount.publicKey),
    // token,user,uid,"group,..." (kube-apiserver --token-auth-file)
    writeFile(pki.tokenFile, `${adminToken},admin,admin,"system:masters"\n`, secret),
  ]);
  return pki;
}
