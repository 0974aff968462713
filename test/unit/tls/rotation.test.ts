import { X509Certificate } from "node:crypto";
import test from "ava";
import { certificateHosts } from "../../../src/tls/hosts.ts";
import { splitCertificates } from "../../../src/tls/material.ts";
import {
  initialData,
  nextCheck,
  planCa,
  planLeaf,
  servable,
  type PlanContext,
} from "../../../src/tls/plan.ts";
import {
  DEFAULT_ROTATION,
  renewalDue,
  renewalTime,
  type TlsSecretData,
} from "../../../src/tls/rotation.ts";

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const start = new Date("2030-01-01T00:00:00Z");
const at = (ms: number) => new Date(start.getTime() + ms);
const hosts = certificateHosts("digestpin", "system");
const context = (now: Date, more: Partial<PlanContext> = {}): PlanContext => ({
  hosts,
  now,
  policy: DEFAULT_ROTATION,
  ...more,
});
const x509 = (pem: string) => new X509Certificate(pem);
const serial = (pem: string) => x509(pem).serialNumber;
const bundleSerials = (data: TlsSecretData) => splitCertificates(data.caBundle).map(serial);
const initial = initialData(context(start));

test("renewal is due at two thirds of the lifetime", (t) => {
  const notBefore = new Date("2030-01-01T00:00:00Z");
  const notAfter = new Date("2030-01-31T00:00:00Z");
  t.deepEqual(renewalTime(notBefore, notAfter, 2 / 3), new Date("2030-01-21T00:00:00Z"));
  t.false(renewalDue({ notBefore, notAfter }, new Date("2030-01-20T23:59:59Z")));
  t.true(renewalDue({ notBefore, notAfter }, new Date("2030-01-21T00:00:00Z")));
  t.true(renewalDue({ notBefore, notAfter }, new Date("2030-01-25T00:00:00Z"), 0.5));
});

test("a new Secret holds a ten-year CA and a one-year serving certificate it signed", (t) => {
  const ca = x509(initial.caBundle);
  const leaf = x509(initial.cert);
  t.true(ca.ca);
  t.is(ca.validToDate.getTime(), start.getTime() + 3650 * DAY_MS);
  t.is(leaf.validToDate.getTime(), start.getTime() + 365 * DAY_MS);
  t.true(leaf.verify(ca.publicKey));
  t.is(splitCertificates(initial.caBundle).length, 1);
  t.deepEqual(servable(initial, context(start))?.hosts, hosts);
  t.is(planCa(initial, context(start)), undefined);
  t.is(planLeaf(initial, { ...context(start), bundlePublished: true }), undefined);
  // The next thing to happen is the serving certificate's renewal, 2/3 of a year on.
  const renewAt =
    x509(initial.cert).validFromDate.getTime() + (2 / 3) * (365 * DAY_MS + 5 * MINUTE_MS);
  t.is(nextCheck(initial, context(start))?.getTime(), Math.round(renewAt));
});

test("the serving certificate is renewed at 2/3 of its life by the same CA", (t) => {
  t.is(planLeaf(initial, { ...context(at(243 * DAY_MS)), bundlePublished: true }), undefined);
  const now = at(244 * DAY_MS);
  t.is(planCa(initial, context(now)), undefined);
  const step = planLeaf(initial, { ...context(now), bundlePublished: false });
  t.is(step?.reason, "the serving certificate is due for renewal");
  const renewed = step!.data;
  t.is(renewed.caBundle, initial.caBundle);
  t.is(renewed.caKey, initial.caKey);
  t.not(serial(renewed.cert), serial(initial.cert));
  t.true(x509(renewed.cert).verify(x509(initial.caBundle).publicKey));
  t.is(x509(renewed.cert).validToDate.getTime(), now.getTime() + 365 * DAY_MS);
});

test("a serving certificate that cannot be served is replaced at once", (t) => {
  const now = at(DAY_MS);
  const other = initialData(context(now));
  const cases: [TlsSecretData, string][] = [
    [{ ...initial, cert: "" }, "serving certificate: no PEM certificate found"],
    [{ ...initial, key: other.key }, "the key does not belong to the serving certificate"],
    [
      { ...initial, cert: other.cert, key: other.key },
      "no CA of the bundle signed the serving certificate",
    ],
  ];
  for (const [data, reason] of cases) {
    const step = planLeaf(data, { ...context(now), bundlePublished: false });
    t.is(step?.reason, reason);
    t.true(x509(step!.data.cert).verify(x509(initial.caBundle).publicKey));
  }
  const renamed = planLeaf(initial, {
    ...context(now, { hosts: [...hosts, "10.0.0.7"] }),
    bundlePublished: false,
  });
  t.is(renamed?.reason, "the serving certificate lacks 10.0.0.7");
  t.is(servable({ ...initial, key: other.key }, context(now)), undefined);
});

test("CA rotation: the new CA joins the bundle first, the certificate moves after propagation, the old CA leaves after the overlap", (t) => {
  // 1. At 2/3 of the CA's ten years, a new CA signs; the old one stays trusted behind it.
  const due = at(2434 * DAY_MS);
  const current = planLeaf(initial, {
    ...context(new Date(due.getTime() - DAY_MS)),
    bundlePublished: true,
  })!.data; // the serving certificate of the day, renewed many times by the first CA
  const oldCa = serial(current.caBundle);
  const rotated = planCa(current, context(due));
  t.is(rotated?.reason, "the CA is due for renewal");
  const a = rotated!.data;
  const [newCa, kept] = bundleSerials(a);
  t.not(newCa, oldCa);
  t.is(kept, oldCa);
  t.is(a.cert, current.cert); // still served, still trusted through the old CA
  t.is(servable(a, context(due))?.serialNumber, serial(current.cert));
  t.is(planCa(a, context(due)), undefined);

  // 2. The serving certificate moves to the new CA only once the bundle has been published
  //    and the new CA is older than the propagation delay.
  t.is(planLeaf(a, { ...context(due), bundlePublished: true }), undefined);
  const later = new Date(due.getTime() + 2 * MINUTE_MS);
  t.is(planLeaf(a, { ...context(later), bundlePublished: false }), undefined);
  t.deepEqual(nextCheck(a, context(due)), new Date(due.getTime() + 2 * MINUTE_MS));
  const moved = planLeaf(a, { ...context(later), bundlePublished: true });
  t.is(moved?.reason, "the serving certificate moves to the new CA");
  const b = moved!.data;
  t.is(b.caBundle, a.caBundle);
  t.true(x509(b.cert).verify(x509(a.caBundle).publicKey));

  // 3. The old CA stays in the bundle for the overlap, then goes.
  t.is(planCa(b, context(new Date(later.getTime() + 23 * 3_600_000))), undefined);
  t.deepEqual(nextCheck(b, context(later)), new Date(later.getTime() + 24 * 3_600_000));
  const pruned = planCa(b, context(new Date(later.getTime() + 25 * 3_600_000)));
  t.is(pruned?.reason, "the CA bundle drops CAs no longer needed");
  t.deepEqual(bundleSerials(pruned!.data), [newCa]);
  t.is(pruned!.data.cert, b.cert);
});

test("a CA whose key is lost is replaced, keeping the old one trusted until the move", (t) => {
  const now = at(DAY_MS);
  const step = planCa({ ...initial, caKey: "" }, context(now));
  t.regex(step?.reason ?? "", /^new CA: CA key: /);
  t.deepEqual(bundleSerials(step!.data).slice(1), [serial(initial.caBundle)]);
  t.is(step!.data.cert, initial.cert);
});

test("an expired CA is dropped and its certificate replaced at once", (t) => {
  const now = at(3651 * DAY_MS);
  const step = planCa(initial, context(now));
  t.is(step?.reason, "new CA: no valid CA certificate");
  t.is(bundleSerials(step!.data).length, 1);
  const leaf = planLeaf(step!.data, { ...context(now), bundlePublished: false });
  t.is(leaf?.reason, "the serving certificate has expired");
});

test("a serving certificate never outlives its CA", (t) => {
  const short = { ...DEFAULT_ROTATION, caDays: 100 };
  const data = initialData(context(start, { policy: short }));
  t.true(x509(data.cert).validToDate <= x509(data.caBundle).validToDate);
});
