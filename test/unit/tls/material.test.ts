import { X509Certificate } from "node:crypto";
import test from "ava";
import { Metrics } from "../../../src/observability/metrics.ts";
import {
  createCertificateAuthority,
  createServingCertificate,
} from "../../../src/tls/certificates.ts";
import {
  createTlsSource,
  ephemeralTlsSource,
  secureContextOptions,
  servingCertificate,
  TlsMaterialError,
} from "../../../src/tls/index.ts";
import { splitCertificates } from "../../../src/tls/material.ts";
import { CertificateSlot } from "../../../src/tls/source.ts";

const ca = createCertificateAuthority({ commonName: "test CA" });
const issue = () => createServingCertificate(ca, { commonName: "web", hosts: ["web", "::1"] });
const first = issue();
const second = issue();

test("a matching pair becomes a serving certificate with its facts", (t) => {
  const certificate = servingCertificate(first.cert, first.key, ca.cert);
  t.is(certificate.cert, first.cert);
  t.is(certificate.key, first.key);
  t.is(certificate.ca, ca.cert);
  t.deepEqual(certificate.hosts, ["web", "0:0:0:0:0:0:0:1"]);
  t.regex(certificate.serialNumber, /^01[0-9A-F]{30}$/);
  t.regex(certificate.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  t.true(certificate.notAfter > certificate.notBefore);
});

test("a mismatched or half-written pair is refused with ERR_TLS_MATERIAL", (t) => {
  const mismatch = t.throws(() => servingCertificate(first.cert, second.key), {
    instanceOf: TlsMaterialError,
  });
  t.is(mismatch.code, "ERR_TLS_MATERIAL");
  t.is(mismatch.message, "the private key does not belong to the serving certificate");
  t.throws(() => servingCertificate(first.cert.slice(0, 500), first.key), {
    instanceOf: TlsMaterialError,
    message: "serving certificate: no PEM certificate found",
  });
  t.throws(() => servingCertificate(first.cert, first.key.slice(0, 600)), {
    instanceOf: TlsMaterialError,
    message: /^serving certificate key: /,
  });
  t.throws(() => servingCertificate("", ""), { instanceOf: TlsMaterialError });
});

test("a bundle splits into its certificates", (t) => {
  t.deepEqual(splitCertificates(`${first.cert}junk\n${second.cert}`), [first.cert, second.cert]);
  t.deepEqual(splitCertificates("no certificates"), []);
});

test("secure-context options carry the pair and TLS 1.2 as the minimum, nothing else", (t) => {
  t.deepEqual(secureContextOptions(servingCertificate(first.cert, first.key, ca.cert)), {
    cert: first.cert,
    key: first.key,
    minVersion: "TLSv1.2",
  });
});

test("the slot notifies listeners of a new certificate only, and sets the expiry gauge", async (t) => {
  const metrics = new Metrics();
  const slot = new CertificateSlot({ metrics });
  const seen: string[] = [];
  const unsubscribe = slot.onChange((c) => seen.push(c.serialNumber));
  t.throws(() => slot.current(), {
    message: "internal error: the TLS source was read before it started (please report it)",
  });
  const a = servingCertificate(first.cert, first.key);
  const b = servingCertificate(second.cert, second.key);
  t.true(slot.publish(a));
  t.false(slot.publish(servingCertificate(first.cert, first.key)));
  t.true(slot.publish(b));
  unsubscribe();
  t.true(slot.publish(a));
  t.deepEqual(seen, [b.serialNumber]); // not the first, not a repeat, not after unsubscribing
  t.is(slot.current(), a);
  const gauge = await metrics.certificateExpiry.get();
  t.is(gauge.values[0]?.value, a.notAfter.getTime() / 1000);
});

test("the ephemeral source serves localhost names, signed by the CA it reports", async (t) => {
  const metrics = new Metrics();
  const source = ephemeralTlsSource({ metrics });
  t.is(source.mode, "ephemeral");
  const certificate = await source.start();
  t.is(source.current(), certificate);
  t.deepEqual(certificate.hosts, ["localhost", "127.0.0.1", "0:0:0:0:0:0:0:1"]);
  t.true(
    new X509Certificate(certificate.cert).verify(new X509Certificate(certificate.ca!).publicKey),
  );
  t.is(
    (await metrics.certificateExpiry.get()).values[0]?.value,
    certificate.notAfter.getTime() / 1000,
  );
  await source.stop();
});

test("createTlsSource picks the source the configuration names", async (t) => {
  const source = createTlsSource(
    { mode: "ephemeral", hosts: ["webhook.test"] },
    { namespace: "x" },
  );
  t.deepEqual((await source.start()).hosts, ["webhook.test"]);
  t.is(
    createTlsSource({ mode: "files", certFile: "a", keyFile: "b" }, { namespace: "x" }).mode,
    "files",
  );
  t.throws(
    () =>
      createTlsSource(
        { mode: "self-managed", secret: "s", service: "w", webhookConfigurations: ["m", "v"] },
        { namespace: "x" },
      ),
    {
      message:
        "self-managed TLS needs access to the API server (--kubeconfig, or run in a cluster)",
    },
  );
});
