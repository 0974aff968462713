import { createPrivateKey, X509Certificate } from "node:crypto";
import test from "ava";
import {
  BACKDATE_MS,
  certificateExpiry,
  createCertificateAuthority,
  createServingCertificate,
} from "../../../src/tls/certificates.ts";
import { certificateHosts, hostProblem } from "../../../src/tls/hosts.ts";

const DAY_MS = 86_400_000;
const now = new Date("2031-03-01T12:00:00Z");
const ca = createCertificateAuthority({ commonName: "test CA", validDays: 3650, now });
const hosts = certificateHosts("digestpin", "webhooks", ["10.96.0.10", "[fd00::1]", "Web.Example"]);
const leaf = createServingCertificate(ca, { commonName: "digestpin", hosts, validDays: 365, now });
const caCert = new X509Certificate(ca.cert);
const leafCert = new X509Certificate(leaf.cert);

test("the service's names come first, then extra hosts, without duplicates", (t) => {
  t.deepEqual(hosts, [
    "digestpin",
    "digestpin.webhooks",
    "digestpin.webhooks.svc",
    "digestpin.webhooks.svc.cluster.local",
    "10.96.0.10",
    "fd00::1",
    "web.example",
  ]);
  t.deepEqual(certificateHosts("a", "b", ["a.b", "a"]), [
    "a",
    "a.b",
    "a.b.svc",
    "a.b.svc.cluster.local",
  ]);
});

test("the serving certificate names every host as a DNS or IP subjectAltName", (t) => {
  t.is(
    leafCert.subjectAltName,
    "DNS:digestpin, DNS:digestpin.webhooks, DNS:digestpin.webhooks.svc, " +
      "DNS:digestpin.webhooks.svc.cluster.local, IP Address:10.96.0.10, " +
      "IP Address:FD00:0:0:0:0:0:0:1, DNS:web.example",
  );
  t.is(
    leafCert.checkHost("digestpin.webhooks.svc", { subject: "never" }),
    "digestpin.webhooks.svc",
  );
  t.is(leafCert.checkIP("10.96.0.10"), "10.96.0.10");
  t.is(leafCert.checkHost("other.webhooks.svc", { subject: "never" }), undefined);
});

test("validity runs from five minutes before now for the days asked", (t) => {
  t.is(leafCert.validFromDate.getTime(), now.getTime() - BACKDATE_MS);
  t.is(leafCert.validToDate.getTime(), now.getTime() + 365 * DAY_MS);
  t.is(caCert.validToDate.getTime(), now.getTime() + 3650 * DAY_MS);
  t.deepEqual(certificateExpiry(leaf.cert), leafCert.validToDate);
});

test("a serving certificate asked to outlive its CA ends when the CA does", (t) => {
  const later = new Date(now.getTime() + 1000);
  const long = createServingCertificate(ca, {
    commonName: "x",
    hosts,
    validDays: 3650,
    now: later,
  });
  t.deepEqual(new X509Certificate(long.cert).validToDate, caCert.validToDate);
});

test("the CA signed the serving certificate, which is for servers only, and each key matches", (t) => {
  t.true(caCert.ca);
  t.false(leafCert.ca);
  t.true(leafCert.checkIssued(caCert));
  t.true(leafCert.verify(caCert.publicKey));
  t.true(leafCert.checkPrivateKey(createPrivateKey(leaf.key)));
  t.true(caCert.checkPrivateKey(createPrivateKey(ca.key)));
  t.false(leafCert.checkPrivateKey(createPrivateKey(ca.key)));
  t.deepEqual(leafCert.keyUsage, ["1.3.6.1.5.5.7.3.1"]); // extendedKeyUsage serverAuth
  t.is(leafCert.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
});

test("PEM text uses LF line endings", (t) => {
  for (const pem of [ca.cert, ca.key, leaf.cert, leaf.key]) t.false(pem.includes("\r"));
});

test("hosts are DNS names or IP addresses", (t) => {
  t.is(hostProblem("webhook.example.com"), undefined);
  t.is(hostProblem("*.example.com"), undefined);
  t.is(hostProblem("192.0.2.1"), undefined);
  t.is(hostProblem("[2001:db8::1]"), undefined);
  t.is(hostProblem("bad_host"), 'host "bad_host" is neither a DNS name nor an IP address');
  t.is(hostProblem("a..b"), 'host "a..b" is neither a DNS name nor an IP address');
  t.is(hostProblem(""), "empty host name");
});
