import { writeFile } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { connect } from "node:tls";
import test from "ava";
import { KubernetesObjectApi } from "@kubernetes/client-node";
import { Agent, request } from "undici";
import { parseServeConfig } from "../../../src/webhook/config.ts";
import { Metrics } from "../../../src/observability/metrics.ts";
import { policyFromText } from "../../../src/policy/index.ts";
import { PolicyResolver } from "../../../src/webhook/policy-resolver.ts";
import { startWebhook } from "../../../src/webhook/start.ts";
import {
  createCertificateAuthority,
  createServingCertificate,
} from "../../../src/tls/certificates.ts";
import { reportRow } from "../../helpers/reliability.ts";
import { startTestServer } from "../../helpers/webhook-server.ts";
import { sharedControlPlane } from "../../harness/kube-shared.ts";
import { createCrane, startRegistry, tempDir } from "../../harness/testbed.ts";
import { putConfigMap } from "../../harness/kube-configmaps.ts";
import { capturedLogger } from "./matrix.ts";
import { secretsIn } from "./secrets.ts";

// Security checks from the outside: what digestpin serve logs while it uses credentials, the
// TLS floor as a client meets it, and the SSRF guards reached through /mutate.

const controlPlane = sharedControlPlane(test, { controllerManager: false });

const review = (uid: string, spec: object, namespace = "team") => ({
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  request: {
    uid,
    kind: { group: "", version: "v1", kind: "Pod" },
    resource: { group: "", version: "v1", resource: "pods" },
    name: uid,
    namespace,
    operation: "CREATE",
    userInfo: { username: "alice" },
    object: { apiVersion: "v1", kind: "Pod", metadata: { name: uid }, spec },
    dryRun: false,
  },
});
const containers = (image: string, extra: object = {}) => ({
  containers: [{ name: "app", image }],
  ...extra,
});

test.serial(
  "digestpin serve using registry credentials logs no password, token or Secret data",
  async (t) => {
    const cluster = controlPlane();
    const ns = await cluster.namespace(t, "secrets");
    const registry = await startRegistry(t, { auth: "token" });
    const crane = await createCrane(t, registry);
    const repos = ["pinned", "drifted", "unpinned", "expired", "invalid", "stale"];
    const pushed = Object.fromEntries(
      await Promise.all(
        repos.map(
          async (r) => [r, await crane.pushRandomImage(registry.ref(`sec/${r}:1`))] as const,
        ),
      ),
    );
    await crane.repush(registry.ref("sec/drifted:1"));
    const reader = registry.users.find((u) => u.username === "reader")!;
    const stalePassword = "stale-pull-password-3c9e1b";
    const dockerConfig = (username: string, password: string) =>
      JSON.stringify({
        auths: {
          [registry.host]: {
            username,
            password,
            auth: Buffer.from(`${username}:${password}`).toString("base64"),
          },
        },
      });
    const objects = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
    const secretData: string[] = [];
    for (const [name, config] of [
      ["registry-reader", dockerConfig(reader.username, reader.password)],
      ["stale-pull", dockerConfig(reader.username, stalePassword)],
    ] as const) {
      const data = Buffer.from(config).toString("base64");
      secretData.push(data);
      await objects.create({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name, namespace: ns },
        type: "kubernetes.io/dockerconfigjson",
        data: { ".dockerconfigjson": data },
      });
    }
    const realmHost = new URL(registry.tokenServer!.realm).host;
    const registries = [
      {
        host: registry.host,
        ca: registry.caPem,
        allowPrivateAddresses: true,
        credentialsSecret: `${ns}/registry-reader`,
      },
      { host: realmHost, ca: registry.caPem, allowPrivateAddresses: true },
    ];
    const pins = repos
      .filter((r) => r !== "unpinned")
      .map((r) => `  ${JSON.stringify(registry.ref(`sec/${r}:1`))}: ${pushed[r]!.digest}`);
    await putConfigMap(cluster.kubeConfig, ns, "digestpin-policy", {
      "policy.yaml": [
        "apiVersion: digestpin.dev/v1alpha1",
        "kind: Policy",
        "unpinned: resolve",
        "cacheTTL: 0s",
        `registries: ${JSON.stringify(registries)}`,
        "pins:",
        ...pins,
        "",
      ].join("\n"),
    });

    const dir = await tempDir(t, "serve-tls");
    const ca = createCertificateAuthority({ commonName: "security test" });
    const serving = createServingCertificate(ca, { commonName: "127.0.0.1", hosts: ["127.0.0.1"] });
    await writeFile(join(dir, "tls.crt"), serving.cert);
    await writeFile(join(dir, "tls.key"), serving.key, { mode: 0o600 });
    const parsed = parseServeConfig(
      [
        ...["--policy-configmap", `${ns}/digestpin-policy`, "--namespace", ns],
        ...["--kubeconfig", cluster.kubeconfigPath, "--pull-secrets", "--log-level", "trace"],
        ...["--tls-cert-file", join(dir, "tls.crt"), "--tls-key-file", join(dir, "tls.key")],
        ...["--host", "127.0.0.1", "--port", "0", "--metrics-host", "127.0.0.1"],
        ...["--metrics-port", "0", "--timeout-seconds", "5", "--drain-delay", "0"],
      ],
      {},
    );
    if (parsed.ok !== true) throw new Error(JSON.stringify(parsed));
    const { logger, text } = capturedLogger();
    const webhook = await startWebhook(parsed.config, { logger, metrics: new Metrics() });
    t.teardown(() => webhook.stop());
    for (let i = 0; webhook.policy.current() === undefined; i++) {
      if (i > 500) throw new Error("no policy loaded");
      await sleep(10);
    }
    const agent = new Agent({ connect: { ca: ca.cert } });
    t.teardown(() => agent.close());
    const post = async (body: object) => {
      const response = await request(`${webhook.server.url}/mutate`, {
        method: "POST",
        dispatcher: agent,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const json = (await response.body.json()) as { response: Record<string, any> };
      return json.response;
    };
    const image = (r: string) => registry.ref(`sec/${r}:1`);
    const decisions: Record<string, string> = {};
    const send = async (name: string, spec: object) => {
      const response = await post(review(name, spec, ns));
      decisions[name] = String(response.auditAnnotations?.decisions ?? "").replace(
        "containers[app]=",
        "",
      );
    };
    await send("pinned", containers(image("pinned")));
    await send("drifted", containers(image("drifted")));
    await send("unpinned", containers(image("unpinned")));
    // A pod pull secret with a stale password comes first in the keychain: the token server
    // refuses it (401), and the error path logs too.
    await send("stale", containers(image("stale"), { imagePullSecrets: [{ name: "stale-pull" }] }));
    registry.tokenServer!.settings.lifetime = -120;
    await send("expired", containers(image("expired")));
    delete registry.tokenServer!.settings.lifetime;
    registry.tokenServer!.settings.onRequest = () => ({
      status: 200,
      body: JSON.stringify({ token: "not.a.jwt.but.secret-ish", expires_in: 300 }),
    });
    await send("invalid", containers(image("invalid")));
    delete registry.tokenServer!.settings.onRequest;
    t.deepEqual(decisions, {
      pinned: "mutate/pinned",
      drifted: "deny/drift",
      unpinned: "mutate/resolved",
      stale: "deny/registry-error",
      expired: "deny/registry-error",
      invalid: "deny/registry-error",
    });
    t.true(registry.tokenServer!.issued() >= 3, "tokens were issued, so there were tokens to leak");

    const metrics = await (await request(`${webhook.server.metricsUrl}/metrics`)).body.text();
    const logs = text();
    const lines = logs.split("\n").filter((l) => l !== "");
    t.true(
      lines.some((l) => l.includes('"admission review"')),
      "the scan saw the review logs",
    );
    const secrets = [
      reader.password,
      stalePassword,
      ...registry.users.map((u) => u.password),
      ...secretData,
      "not.a.jwt.but.secret-ish",
    ];
    t.deepEqual(secretsIn(logs, secrets), [], "logs");
    t.deepEqual(secretsIn(metrics, secrets), [], "metrics");
    reportRow(t, import.meta.url, {
      section: "security",
      subject:
        "logs (level trace) and /metrics of digestpin serve with a credentialsSecret and a pod imagePullSecret, against a token-auth registry; valid, stale, expired and invalid credentials",
      tried: `${Object.keys(decisions).length} reviews; ${lines.length} log lines (${logs.length} bytes) and ${metrics.length} bytes of metrics scanned for ${secrets.length} secrets and credential shapes (JWT, Bearer, Basic, private key, docker auth)`,
      outcome: "0 secrets or tokens found",
    });
  },
);

test("TLS below 1.2 is refused with a protocol_version alert from the server; 1.2 and 1.3 connect", async (t) => {
  const { server, caPem } = await startTestServer(t, {
    policy: () => undefined,
    resolve: () => Promise.reject(new Error("unused")),
    keychainFor: () => Promise.resolve(() => undefined),
    recordPin: () => Promise.reject(new Error("unused")),
    mutateTemplates: false,
    budgetMs: 1000,
    now: Date.now,
  });
  const { port } = new URL(server.url);
  const handshake = (version: "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3") =>
    new Promise<string>((resolve) => {
      // SECLEVEL=0: the client really offers the old protocol, so the refusal is the server's.
      const socket = connect(
        {
          host: "127.0.0.1",
          port: Number(port),
          ca: caPem,
          minVersion: version,
          maxVersion: version,
          ciphers: "DEFAULT:@SECLEVEL=0",
        },
        () => {
          const protocol = socket.getProtocol() ?? "";
          socket.end();
          resolve(`connected ${protocol}`);
        },
      );
      socket.on("error", (error: NodeJS.ErrnoException) => {
        resolve(`refused ${error.code ?? error.message}`);
      });
    });
  const results = {
    TLSv1: await handshake("TLSv1"),
    "TLSv1.1": await handshake("TLSv1.1"),
    "TLSv1.2": await handshake("TLSv1.2"),
    "TLSv1.3": await handshake("TLSv1.3"),
  };
  t.deepEqual(results, {
    TLSv1: "refused ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION",
    "TLSv1.1": "refused ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION",
    "TLSv1.2": "connected TLSv1.2",
    "TLSv1.3": "connected TLSv1.3",
  });
  reportRow(t, import.meta.url, {
    section: "security",
    subject: "TLS versions offered to the webhook's HTTPS listener",
    tried: "one handshake each of TLS 1.0, 1.1 (client at SECLEVEL=0), 1.2, 1.3",
    outcome: "1.0 and 1.1 refused by the server's protocol_version alert; 1.2 and 1.3 connect",
  });
});

test("SSRF guards hold through /mutate: internal registries are denied and never contacted", async (t) => {
  const connections: Socket[] = [];
  const trap = createServer((socket) => {
    connections.push(socket);
    socket.destroy();
  });
  await new Promise<void>((resolve) => trap.listen(0, "127.0.0.1", resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        trap.close(() => {
          resolve();
        });
      }),
  );
  const port = (trap.address() as { port: number }).port;
  const internal = [
    "169.254.169.254/latest/meta-data:1",
    `127.0.0.1:${port}/x:1`,
    `localhost:${port}/x:1`,
    `[::1]:${port}/x:1`,
    `[::ffff:7f00:1]:${port}/x:1`, // 127.0.0.1, IPv4-mapped
    "[::ffff:a9fe:a9fe]/x:1", // 169.254.169.254, IPv4-mapped
    `2130706433:${port}/x:1`, // 127.0.0.1 as one decimal number
    `0x7f000001:${port}/x:1`, // and in hex
    `127.1:${port}/x:1`,
    `0.0.0.0:${port}/x:1`,
    "10.0.0.1/x:1",
    "192.168.1.1:5000/x:1",
    "[fd00::1]:5000/x:1",
  ];
  // Every image is pinned (so the registry would be asked); no `registries` list: any registry
  // by name, the address guards alone stand between a pod spec and an internal address.
  const policy = policyFromText(
    [
      "apiVersion: digestpin.dev/v1alpha1",
      "kind: Policy",
      "unpinned: trust-on-first-use",
      "registryUnavailable: use-pin",
      "pins:",
      ...internal.map((image) => `  ${JSON.stringify(image)}: sha256:${"d".repeat(64)}`),
      "",
    ].join("\n"),
    "policy.yaml",
  );
  const resolver = new PolicyResolver(() => policy);
  t.teardown(() => resolver.close());
  const { post } = await startTestServer(t, {
    policy: () => policy,
    resolve: resolver.resolve,
    keychainFor: () => Promise.resolve(() => ({ username: "u", password: "ssrf-password" })),
    recordPin: () => Promise.reject(new Error("nothing may be recorded")),
    mutateTemplates: false,
    budgetMs: 2000,
    now: Date.now,
  });
  const outcomes = await Promise.all(
    [...internal, ...internal.map((i) => i.replace(/:1$/, ":2"))].map(async (image, i) => {
      const { status, json } = await post("/mutate", review(`ssrf-${i}`, containers(image)));
      return { image, status, response: json.response };
    }),
  );
  for (const { image, status, response } of outcomes) {
    t.is(status, 200, image);
    t.false(response.allowed, image);
    t.is(response.auditAnnotations.decisions, "containers[app]=deny/registry-error", image);
    t.regex(response.status.message, /ERR_REGISTRY_NOT_ALLOWED/, image);
  }
  t.is(connections.length, 0, "nothing connected to the internal address");
  reportRow(t, import.meta.url, {
    section: "security",
    subject:
      "SSRF through /mutate: registries at metadata, loopback (also as 2130706433, 0x7f000001, 127.1, ::ffff:7f00:1, localhost), private and unique-local addresses; pinned and unpinned (trust-on-first-use) tags",
    tried: `${outcomes.length} reviews over HTTPS, a listening trap on the loopback port`,
    outcome: `${outcomes.filter((o) => !o.response.allowed).length} denied (registry-error, ERR_REGISTRY_NOT_ALLOWED), 0 admitted, 0 connections to the trap`,
  });
});
