import { createPrivateKey, X509Certificate } from "node:crypto";
import { Writable } from "node:stream";
import { KubernetesObjectApi, PatchStrategy, type KubeConfig } from "@kubernetes/client-node";
import test from "ava";
import { createLogger } from "../../../src/observability/logger.ts";
import { Metrics } from "../../../src/observability/metrics.ts";
import { SelfManagedTlsSource } from "../../../src/tls/index.ts";
import { splitCertificates } from "../../../src/tls/material.ts";
import { clientKubeConfig } from "../../harness/kube-config.ts";
import { sharedControlPlane } from "../../harness/kube-shared.ts";
import type { Teardown } from "../../harness/lifecycle.ts";
import { waitFor } from "../../harness/wait.ts";

const controlPlane = sharedControlPlane(test, { controllerManager: false });

const DAY_MS = 86_400_000;
const KINDS = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"] as const;
const SECRET = "digestpin-tls";
const SERVICE = "digestpin";

/** Two webhooks calling a URL nobody serves, for a resource that does not exist. */
function webhookConfiguration(kind: (typeof KINDS)[number], name: string) {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind,
    metadata: { name },
    webhooks: ["pods", "workloads"].map((webhook) => ({
      name: `${webhook}.${name}.digestpin.dev`,
      clientConfig: { url: `https://127.0.0.1:1/${webhook}` },
      rules: [
        {
          operations: ["CREATE"],
          apiGroups: ["tls-test.digestpin.dev"],
          apiVersions: ["v1"],
          resources: ["nothing"],
        },
      ],
      sideEffects: "None",
      admissionReviewVersions: ["v1"],
      failurePolicy: "Ignore",
      timeoutSeconds: 1,
    })),
  };
}

/** What the tests read back of a webhook configuration. */
interface StoredConfiguration {
  readonly webhooks: readonly {
    readonly name: string;
    readonly failurePolicy: string;
    readonly clientConfig: { readonly url?: string; readonly caBundle?: string };
    readonly rules: readonly { readonly resources: readonly string[] }[];
  }[];
}

interface Replica {
  readonly source: SelfManagedTlsSource;
  readonly metrics: Metrics;
  readonly changes: string[];
}

/** A namespace, both webhook configurations, a shared clock and a way to start replicas. */
async function setUp(t: Teardown) {
  const cluster = controlPlane();
  const namespace = await cluster.namespace(t, "tls");
  const objects = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
  for (const kind of KINDS) {
    const configuration = webhookConfiguration(kind, namespace);
    await objects.create(configuration);
    t.teardown(() => objects.delete(configuration).then(() => undefined));
  }
  const clock = { now: new Date() };
  const logs: string[] = [];
  const logger = createLogger({
    level: "debug",
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString());
        done();
      },
    }),
  });
  /**
   * A replica; `passive` ones never reconcile on their own during a test (their debounce and
   * resync outlast it), so what they serve can only have come through the Secret watch.
   */
  const replica = (options: { kubeConfig?: KubeConfig; passive?: boolean } = {}): Replica => {
    const metrics = new Metrics();
    const source = new SelfManagedTlsSource({
      kubeConfig: options.kubeConfig ?? cluster.kubeConfig,
      namespace,
      service: SERVICE,
      secretName: SECRET,
      mutatingWebhookConfiguration: namespace,
      validatingWebhookConfiguration: namespace,
      now: () => clock.now,
      debounceMs: options.passive === true ? 600_000 : 50,
      logger,
      metrics,
    });
    t.teardown(() => source.stop());
    const changes: string[] = [];
    source.onChange((certificate) => changes.push(certificate.fingerprint256));
    return { source, metrics, changes };
  };
  const readSecret = async () => {
    const secret = await objects.read<{
      apiVersion: string;
      kind: string;
      metadata: { name: string; namespace: string; labels?: Record<string, string> };
      type?: string;
      data?: Record<string, string>;
    }>({ apiVersion: "v1", kind: "Secret", metadata: { name: SECRET, namespace } });
    const field = (key: string) => Buffer.from(secret.data?.[key] ?? "", "base64").toString();
    return {
      secret,
      caBundle: field("ca.crt"),
      caKey: field("ca.key"),
      cert: field("tls.crt"),
      key: field("tls.key"),
    };
  };
  const readConfiguration = (kind: (typeof KINDS)[number]) =>
    objects.read<StoredConfiguration & { apiVersion: string; kind: string }>({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind,
      metadata: { name: namespace },
    });
  /** The caBundle of every webhook of both configurations, decoded. */
  const caBundles = async (): Promise<string[]> => {
    const bundles: string[] = [];
    for (const kind of KINDS) {
      const configuration = await readConfiguration(kind);
      for (const webhook of configuration.webhooks) {
        bundles.push(Buffer.from(webhook.clientConfig.caBundle ?? "", "base64").toString());
      }
    }
    return bundles;
  };
  return {
    cluster,
    namespace,
    objects,
    clock,
    logs,
    replica,
    readSecret,
    readConfiguration,
    caBundles,
  };
}

const until = (condition: () => boolean | Promise<boolean>, what: string): Promise<true> =>
  waitFor(what, async () => (await condition()) || undefined, 20_000, 25);

const x509 = (pem: string) => new X509Certificate(pem);
const fingerprintOf = (pem: string) => x509(pem).fingerprint256;
const serials = (bundle: string) => splitCertificates(bundle).map((pem) => x509(pem).serialNumber);

test("replicas starting together converge on one Secret, and every webhook trusts its CA", async (t) => {
  const { namespace, logs, replica, readSecret, caBundles, readConfiguration } = await setUp(t);
  const replicas = [replica(), replica(), replica()];
  const served = await Promise.all(replicas.map((r) => r.source.start()));

  const { secret, caBundle, caKey, cert, key } = await readSecret();
  t.is(secret.type, "kubernetes.io/tls");
  t.deepEqual(Object.keys(secret.data ?? {}).sort(), ["ca.crt", "ca.key", "tls.crt", "tls.key"]);
  t.like(secret.metadata.labels, { "app.kubernetes.io/managed-by": "digestpin" });
  t.is(logs.filter((line) => line.includes("created the TLS Secret")).length, 1);

  for (const certificate of served) {
    t.is(certificate.fingerprint256, fingerprintOf(cert));
    t.is(certificate.key, key);
    t.is(certificate.ca, caBundle);
  }
  const ca = x509(caBundle);
  const leaf = x509(cert);
  t.true(ca.ca);
  t.true(ca.checkPrivateKey(createPrivateKey(caKey)));
  t.true(leaf.verify(ca.publicKey));
  t.is(
    leaf.checkHost(`${SERVICE}.${namespace}.svc`, { subject: "never" }),
    `${SERVICE}.${namespace}.svc`,
  );
  t.is(leaf.validToDate.getTime() - leaf.validFromDate.getTime(), 365 * DAY_MS + 5 * 60_000);
  t.is(ca.validToDate.getTime() - ca.validFromDate.getTime(), 3650 * DAY_MS + 5 * 60_000);

  t.deepEqual(await caBundles(), [caBundle, caBundle, caBundle, caBundle]);
  // Only caBundle was written: everything else is as created.
  for (const kind of KINDS) {
    const configuration = await readConfiguration(kind);
    const expected = webhookConfiguration(kind, namespace).webhooks;
    t.deepEqual(
      configuration.webhooks.map((w) => ({
        name: w.name,
        url: w.clientConfig.url,
        failurePolicy: w.failurePolicy,
        rules: w.rules.map((r) => r.resources),
      })),
      expected.map((w) => ({
        name: w.name,
        url: w.clientConfig.url,
        failurePolicy: w.failurePolicy,
        rules: w.rules.map((r) => r.resources),
      })),
    );
  }
  const gauge = await replicas[0]!.metrics.certificateExpiry.get();
  t.is(gauge.values[0]?.value, leaf.validToDate.getTime() / 1000);
});

test("a renewal by one replica reaches the others through the watch; the CA stays", async (t) => {
  const { clock, replica, readSecret, caBundles } = await setUp(t);
  const [a, b] = [replica(), replica({ passive: true })];
  await a.source.start();
  await b.source.start();
  const before = await readSecret();

  clock.now = new Date(clock.now.getTime() + 244 * DAY_MS); // past 2/3 of a year
  await a.source.reconcile();
  const after = await readSecret();
  t.not(after.cert, before.cert);
  t.is(after.caBundle, before.caBundle);
  t.is(after.caKey, before.caKey);
  t.true(x509(after.cert).verify(x509(after.caBundle).publicKey));
  t.is(a.source.current().fingerprint256, fingerprintOf(after.cert));

  await until(() => b.changes.length === 1, "the other replica to serve the renewal");
  t.deepEqual(b.changes, [fingerprintOf(after.cert)]);
  t.deepEqual(a.changes, [fingerprintOf(after.cert)]);
  t.is(
    (await b.metrics.certificateExpiry.get()).values[0]?.value,
    x509(after.cert).validToDate.getTime() / 1000,
  );
  t.deepEqual(await caBundles(), Array(4).fill(before.caBundle));
});

test("CA rotation: both CAs are trusted until every replica serves a certificate of the new one", async (t) => {
  const { clock, replica, readSecret, caBundles } = await setUp(t);
  const start = clock.now.getTime();
  const [a, b] = [replica(), replica()];
  await a.source.start();
  await b.source.start();
  const original = await readSecret();
  const oldCa = x509(original.caBundle).serialNumber;

  // Years on, the serving certificate has been renewed by the first CA (expired: at once).
  clock.now = new Date(start + 2433 * DAY_MS);
  await a.source.reconcile();
  const renewed = await readSecret();
  t.deepEqual(serials(renewed.caBundle), [oldCa]);
  await until(
    () => b.source.current().fingerprint256 === fingerprintOf(renewed.cert),
    "b to follow",
  );

  // 1. 2/3 of ten years: a new CA joins the bundle in front of the old one; the serving
  //    certificate (by the old CA) stays, and every webhook trusts both CAs.
  clock.now = new Date(start + 2434 * DAY_MS);
  await a.source.reconcile();
  const rotated = await readSecret();
  const [newCa, kept] = serials(rotated.caBundle);
  t.is(kept, oldCa);
  t.not(newCa, oldCa);
  t.is(rotated.cert, renewed.cert);
  t.deepEqual(await caBundles(), Array(4).fill(rotated.caBundle));
  await until(() => b.source.current().ca === rotated.caBundle, "b to see the new bundle");
  t.is(b.source.current().fingerprint256, fingerprintOf(renewed.cert));

  // 2. After the propagation delay the serving certificate moves to the new CA; the old CA
  //    is still trusted, for replicas that have not switched yet.
  clock.now = new Date(start + 2434 * DAY_MS + 3 * 60_000);
  await a.source.reconcile();
  const moved = await readSecret();
  t.not(moved.cert, renewed.cert);
  t.true(x509(moved.cert).verify(x509(moved.caBundle).publicKey)); // the first CA: the new one
  t.deepEqual(serials(moved.caBundle), [newCa, oldCa]);
  await until(
    () => b.source.current().fingerprint256 === fingerprintOf(moved.cert),
    "b to serve the certificate of the new CA",
  );
  t.deepEqual(await caBundles(), Array(4).fill(moved.caBundle));

  // 3. A day later the old CA leaves the bundle and the webhook configurations.
  clock.now = new Date(start + 2435 * DAY_MS + 3 * 60_000);
  await a.source.reconcile();
  const pruned = await readSecret();
  t.deepEqual(serials(pruned.caBundle), [newCa]);
  t.is(pruned.cert, moved.cert);
  t.deepEqual(await caBundles(), Array(4).fill(pruned.caBundle));
  await until(() => b.source.current().ca === pruned.caBundle, "b to see the pruned bundle");
});

test("a caBundle overwritten by someone else is put back", async (t) => {
  const { namespace, objects, replica, readSecret, caBundles } = await setUp(t);
  const a = replica();
  await a.source.start();
  const { caBundle } = await readSecret();
  await objects.patch(
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: namespace },
      webhooks: [{ name: `pods.${namespace}.digestpin.dev`, clientConfig: { caBundle: "" } }],
    },
    undefined,
    undefined,
    "someone-else",
    undefined,
    PatchStrategy.StrategicMergePatch,
  );
  await until(
    async () => (await caBundles()).every((bundle) => bundle === caBundle),
    "the caBundle to be restored",
  );
  t.deepEqual(new Set(await caBundles()), new Set([caBundle]));
});

test("a deleted Secret is created again and its CA published", async (t) => {
  const { namespace, objects, replica, readSecret, caBundles } = await setUp(t);
  const a = replica();
  await a.source.start();
  const first = await readSecret();
  const secret = { apiVersion: "v1", kind: "Secret", metadata: { name: SECRET, namespace } };
  await objects.delete(secret);
  await until(async () => {
    const bundles = await caBundles();
    return bundles.every((bundle) => bundle !== first.caBundle && bundle !== "");
  }, "a new CA in the webhook configurations");
  const second = await readSecret();
  t.not(second.caBundle, first.caBundle);
  t.deepEqual(await caBundles(), Array(4).fill(second.caBundle));
  await until(
    () => a.source.current().fingerprint256 === fingerprintOf(second.cert),
    "the new certificate",
  );
});

/**
 * The least privilege self-managed mode needs: besides creating Secrets, only verbs on the
 * one Secret and the two configurations by name. Watches select by `metadata.name`, which
 * RBAC matches against resourceNames.
 */
const rbac = (namespace: string, account: string) => `
apiVersion: v1
kind: ServiceAccount
metadata: { name: ${account}, namespace: ${namespace} }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: ${account}, namespace: ${namespace} }
rules:
  - apiGroups: [""]
    resources: [secrets]
    verbs: [create]
  - apiGroups: [""]
    resources: [secrets]
    resourceNames: [${SECRET}]
    verbs: [get, update, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: ${account}, namespace: ${namespace} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: ${account} }
subjects: [{ kind: ServiceAccount, name: ${account}, namespace: ${namespace} }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: ${namespace}-${account} }
rules:
  - apiGroups: [admissionregistration.k8s.io]
    resources: [mutatingwebhookconfigurations, validatingwebhookconfigurations]
    resourceNames: [${namespace}]
    verbs: [get, patch, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: ${namespace}-${account} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ${namespace}-${account} }
subjects: [{ kind: ServiceAccount, name: ${account}, namespace: ${namespace} }]
`;

test("least privilege: get, update, list and watch by name are enough", async (t) => {
  const { cluster, namespace, clock, logs, replica, readSecret, caBundles } = await setUp(t);
  const manifest = rbac(namespace, "webhook");
  const applied = await cluster.kubectl(["apply", "-f", "-"], { input: manifest });
  t.is(applied.exitCode, 0, applied.stderr);
  t.teardown(async () => {
    await cluster.kubectl(["delete", "--ignore-not-found", "-f", "-"], { input: manifest });
  });
  const token = await cluster.kubectl(["create", "token", "webhook", `--namespace=${namespace}`]);
  t.is(token.exitCode, 0, token.stderr);
  const kubeConfig = clientKubeConfig({
    server: cluster.url,
    caPem: cluster.caPem,
    token: token.stdout.trim(),
  });

  const [a, b] = [replica({ kubeConfig }), replica({ kubeConfig, passive: true })];
  await Promise.all([a.source.start(), b.source.start()]);
  const { caBundle } = await readSecret();
  t.deepEqual(await caBundles(), Array(4).fill(caBundle));

  clock.now = new Date(clock.now.getTime() + 244 * DAY_MS);
  await a.source.reconcile();
  const { cert } = await readSecret();
  await until(() => b.changes.length === 1, "the renewal to reach the other replica");
  t.deepEqual(b.changes, [fingerprintOf(cert)]);
  t.deepEqual(
    logs.filter((line) => /"level":(40|50)/.test(line)),
    [],
    "no warnings or errors: no watch was refused",
  );
});
