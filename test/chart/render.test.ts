import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { parse } from "yaml";
import {
  CONTROLLER_POD_ACTIONS,
  DRIFT_ACTIONS,
  MODES,
  REGISTRY_UNAVAILABLE_ACTIONS,
  REWRITES,
  UNPINNED_ACTIONS,
} from "../../src/policy/document/schema.ts";
import { createHelm } from "../harness/helm.ts";
import { tempDir } from "../harness/lifecycle.ts";
import { runCli } from "../helpers/run-cli.ts";
import { readWebhookFile, webhookSettings, WEBHOOKS_FILE } from "../helpers/webhook-settings.ts";
import {
  CHART_DIR,
  inventory,
  parseObjects,
  renderChart,
  SCENARIOS,
  scenarioFile,
  the,
  type Rendered,
} from "./chart.ts";

// A namespace other than digestpin-system, so that nothing written into a template passes.
const NS = "dp-render";

const render = async (
  t: Parameters<typeof createHelm>[0],
  values: readonly string[] = [],
  set: readonly string[] = [],
) => (await renderChart(await createHelm(t), { namespace: NS, values, set })).objects;

const renderScenario = (t: Parameters<typeof createHelm>[0], scenario: string) =>
  render(t, [scenarioFile(scenario)]);

const BASE_OBJECTS = [
  "ConfigMap/digestpin-policy",
  "Deployment/digestpin",
  "MutatingWebhookConfiguration/digestpin",
  "Role/digestpin",
  "RoleBinding/digestpin",
  "Service/digestpin",
  "ServiceAccount/digestpin",
  "ValidatingWebhookConfiguration/digestpin",
];
const CLUSTER_ROLE = ["ClusterRole/digestpin", "ClusterRoleBinding/digestpin"];
const PDB = ["PodDisruptionBudget/digestpin"];
const DEFAULT_OBJECTS = [...BASE_OBJECTS, ...CLUSTER_ROLE, ...PDB];

const INVENTORIES: Record<string, string[]> = {
  "default-values.yaml": DEFAULT_OBJECTS,
  "alerts-values.yaml": [
    ...DEFAULT_OBJECTS,
    "ConfigMap/digestpin-dashboard",
    "PrometheusRule/digestpin",
    "ServiceMonitor/digestpin",
  ],
  "cert-manager-values.yaml": [
    ...BASE_OBJECTS,
    ...CLUSTER_ROLE,
    ...PDB,
    "Certificate/digestpin",
    "Certificate/digestpin-ca",
    "Issuer/digestpin-ca",
    "Issuer/digestpin-selfsigned",
  ],
  "cert-manager-issuer-values.yaml": [
    ...BASE_OBJECTS,
    ...CLUSTER_ROLE,
    ...PDB,
    "Certificate/digestpin",
  ],
  "mutate-templates-values.yaml": DEFAULT_OBJECTS,
  "observability-values.yaml": [
    ...DEFAULT_OBJECTS,
    "NetworkPolicy/digestpin",
    "ServiceMonitor/digestpin",
  ],
  "pull-secrets-values.yaml": DEFAULT_OBJECTS,
  "single-replica-values.yaml": [...BASE_OBJECTS, ...CLUSTER_ROLE],
  "warn-mode-values.yaml": DEFAULT_OBJECTS,
};

test("each scenario renders exactly the objects it should", async (t) => {
  t.deepEqual(Object.keys(INVENTORIES).sort(), [...SCENARIOS], "a scenario without expectations");
  for (const scenario of SCENARIOS) {
    t.deepEqual(
      inventory(await renderScenario(t, scenario)),
      [...INVENTORIES[scenario]!].sort(),
      scenario,
    );
  }
});

test("every namespaced object is in the release namespace; the rest are cluster-scoped", async (t) => {
  const clusterScoped = new Set([
    "ClusterRole",
    "ClusterRoleBinding",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
  ]);
  for (const scenario of SCENARIOS) {
    for (const object of await renderScenario(t, scenario)) {
      t.is(
        object.metadata.namespace,
        clusterScoped.has(object.kind) ? undefined : NS,
        `${scenario}: ${object.kind}`,
      );
      t.like(object.metadata.labels, {
        "app.kubernetes.io/name": "digestpin",
        "app.kubernetes.io/instance": "digestpin",
        "app.kubernetes.io/part-of": "digestpin",
      });
    }
  }
});

test("the Pods run restricted: non-root, read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp", async (t) => {
  for (const scenario of SCENARIOS) {
    const pod = the(await renderScenario(t, scenario), "Deployment").spec.template.spec;
    t.deepEqual(
      pod.securityContext,
      {
        runAsNonRoot: true,
        runAsUser: 65532,
        runAsGroup: 65532,
        seccompProfile: { type: "RuntimeDefault" },
      },
      scenario,
    );
    t.is(pod.containers.length, 1);
    t.deepEqual(
      pod.containers[0].securityContext,
      {
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      },
      scenario,
    );
    t.is(pod.hostNetwork, undefined);
    t.is(pod.hostPID, undefined);
    t.false(
      (pod.volumes as { hostPath?: unknown }[]).some((volume) => volume.hostPath !== undefined),
    );
  }
});

test("the Deployment: 2 replicas spread over nodes and zones, probes on the metrics port, resources, the contract's flags", async (t) => {
  const objects = await render(t);
  const deployment = the(objects, "Deployment");
  const selector = {
    "app.kubernetes.io/name": "digestpin",
    "app.kubernetes.io/instance": "digestpin",
  };
  t.is(deployment.spec.replicas, 2);
  t.deepEqual(deployment.spec.selector, { matchLabels: selector });
  t.deepEqual(deployment.spec.strategy, {
    type: "RollingUpdate",
    rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
  });
  const pod = deployment.spec.template.spec;
  t.is(pod.serviceAccountName, "digestpin");
  t.deepEqual(pod.affinity, {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: {
            topologyKey: "kubernetes.io/hostname",
            labelSelector: { matchLabels: selector },
          },
        },
      ],
    },
  });
  t.deepEqual(pod.topologySpreadConstraints, [
    {
      maxSkew: 1,
      topologyKey: "topology.kubernetes.io/zone",
      whenUnsatisfiable: "ScheduleAnyway",
      labelSelector: { matchLabels: selector },
    },
  ]);
  const [container] = pod.containers;
  t.is(container.image, "ghcr.io/digestpin/digestpin:0.1.0");
  t.deepEqual(container.args, [
    "serve",
    `--namespace=${NS}`,
    `--policy-configmap=${NS}/digestpin-policy`,
    "--pin-store=digestpin-pins",
    "--pin-store-shards=64",
    "--auto-pins-configmap=digestpin-pins-auto",
    "--port=8443",
    "--metrics-port=9090",
    "--timeout-seconds=10",
    "--tls-self-managed",
    "--tls-secret=digestpin-tls",
    "--service=digestpin",
    "--webhook-configurations=digestpin,digestpin",
    "--log-level=info",
  ]);
  t.deepEqual(container.env, [
    { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
  ]);
  t.deepEqual(container.ports, [
    { name: "https", containerPort: 8443, protocol: "TCP" },
    { name: "metrics", containerPort: 9090, protocol: "TCP" },
  ]);
  t.like(container.livenessProbe, { httpGet: { path: "/healthz", port: "metrics" } });
  t.like(container.readinessProbe, { httpGet: { path: "/readyz", port: "metrics" } });
  t.is(container.startupProbe, undefined, "no startup probe unless asked for");
  t.is(pod.priorityClassName, "system-cluster-critical");
  t.deepEqual(container.resources, {
    requests: { cpu: "100m", memory: "256Mi" },
    limits: { memory: "512Mi" },
  });
  t.deepEqual(container.volumeMounts, [{ name: "tmp", mountPath: "/tmp" }]);

  t.deepEqual(the(objects, "PodDisruptionBudget").spec, {
    minAvailable: 1,
    selector: { matchLabels: selector },
  });
  const service = the(objects, "Service");
  t.deepEqual(service.spec.selector, selector);
  t.deepEqual(service.spec.ports, [
    { name: "https", port: 443, targetPort: "https", protocol: "TCP" },
    { name: "metrics", port: 9090, targetPort: "metrics", protocol: "TCP" },
  ]);
});

test("single replica: no PodDisruptionBudget (it would block drains), hard anti-affinity, image by digest", async (t) => {
  const objects = await renderScenario(t, "single-replica-values.yaml");
  const pod = the(objects, "Deployment").spec.template.spec;
  t.is(pod.containers[0].image, `ghcr.io/digestpin/digestpin:0.1.0@sha256:${"0".repeat(64)}`);
  t.deepEqual(Object.keys(pod.affinity.podAntiAffinity), [
    "requiredDuringSchedulingIgnoredDuringExecution",
  ]);
  t.is(pod.topologySpreadConstraints, undefined);
});

// RBAC, exactly as docs/install.md lists it.
const ROLE_RULES = [
  { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch"] },
  { apiGroups: [""], resources: ["configmaps"], verbs: ["create"] },
  {
    apiGroups: [""],
    resources: ["configmaps"],
    resourceNames: [
      "digestpin-pins-auto",
      ...Array.from({ length: 64 }, (_, i) => `digestpin-pins-${String(i).padStart(3, "0")}`),
    ],
    verbs: ["update", "patch"],
  },
  // The drift scan: its report and its Lease.
  {
    apiGroups: [""],
    resources: ["configmaps"],
    resourceNames: ["digestpin-drift"],
    verbs: ["update", "patch"],
  },
  { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
  {
    apiGroups: ["coordination.k8s.io"],
    resources: ["leases"],
    resourceNames: ["digestpin-drift-scan"],
    verbs: ["get", "update"],
  },
];
// Cluster-wide, always: Events in the workloads' namespaces, and namespace labels.
const CLUSTER_RULES = [
  { apiGroups: ["", "events.k8s.io"], resources: ["events"], verbs: ["create", "patch"] },
  { apiGroups: [""], resources: ["namespaces"], verbs: ["get", "list", "watch"] },
  { apiGroups: [""], resources: ["pods"], verbs: ["list", "watch"] },
  {
    apiGroups: ["apps"],
    resources: ["deployments", "statefulsets", "daemonsets"],
    verbs: ["list", "watch"],
  },
];
const TLS_SECRET_RULES = [
  { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
  {
    apiGroups: [""],
    resources: ["secrets"],
    resourceNames: ["digestpin-tls"],
    verbs: ["get", "list", "watch", "update"],
  },
];
const CA_BUNDLE_RULE = {
  apiGroups: ["admissionregistration.k8s.io"],
  resources: ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"],
  resourceNames: ["digestpin"],
  verbs: ["get", "list", "watch", "patch"],
};
const PULL_SECRET_RULE = {
  apiGroups: [""],
  resources: ["secrets", "serviceaccounts"],
  verbs: ["get"],
};

test("RBAC, self-managed: its ConfigMaps and TLS Secret in its namespace; Events, namespaces and its own two webhook configurations cluster-wide", async (t) => {
  const objects = await render(t);
  t.deepEqual(the(objects, "Role").rules, [...ROLE_RULES, ...TLS_SECRET_RULES]);
  t.deepEqual(the(objects, "ClusterRole").rules, [...CLUSTER_RULES, CA_BUNDLE_RULE]);
  for (const kind of ["RoleBinding", "ClusterRoleBinding"]) {
    const binding = the(objects, kind);
    t.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "digestpin", namespace: NS }]);
    t.like(binding.roleRef, { kind: kind.replace("Binding", ""), name: "digestpin" });
  }
});

test("RBAC, cert-manager: no Secret access, no webhook configuration access", async (t) => {
  for (const scenario of ["cert-manager-values.yaml", "cert-manager-issuer-values.yaml"]) {
    const objects = await renderScenario(t, scenario);
    t.deepEqual(the(objects, "Role").rules, ROLE_RULES, scenario);
    t.deepEqual(the(objects, "ClusterRole").rules, CLUSTER_RULES, scenario);
  }
});

test("RBAC, pull secrets: Secrets and ServiceAccounts cluster-wide by name (get only); the credentialsSecret by name", async (t) => {
  const objects = await renderScenario(t, "pull-secrets-values.yaml");
  t.deepEqual(the(objects, "Role").rules, [
    ...ROLE_RULES,
    ...TLS_SECRET_RULES,
    { apiGroups: [""], resources: ["secrets"], resourceNames: ["ghcr-pull"], verbs: ["get"] },
  ]);
  t.deepEqual(the(objects, "ClusterRole").rules, [
    ...CLUSTER_RULES,
    CA_BUNDLE_RULE,
    PULL_SECRET_RULE,
  ]);
  t.true(
    the(objects, "Deployment").spec.template.spec.containers[0].args.includes("--pull-secrets"),
  );

  const certManager = await render(
    t,
    [scenarioFile("pull-secrets-values.yaml")],
    ["certificates.mode=certManager"],
  );
  t.deepEqual(the(certManager, "ClusterRole").rules, [...CLUSTER_RULES, PULL_SECRET_RULE]);
});

test("RBAC, credentialsSecrets as the policy names them: name, or namespace/name with a Role in that namespace", async (t) => {
  const objects = await render(
    t,
    [],
    [`rbac.credentialsSecrets={ghcr-pull,${NS}/own-pull,team/shared-pull,team/other-pull}`],
  );
  t.deepEqual(the(objects, "Role", "digestpin").rules.at(-1), {
    apiGroups: [""],
    resources: ["secrets"],
    resourceNames: ["ghcr-pull", "own-pull"],
    verbs: ["get"],
  });
  const role = the(objects, "Role", "digestpin-credentials");
  t.is(role.metadata.namespace, "team");
  t.deepEqual(role.rules, [
    {
      apiGroups: [""],
      resources: ["secrets"],
      resourceNames: ["shared-pull", "other-pull"],
      verbs: ["get"],
    },
  ]);
  const binding = the(objects, "RoleBinding", "digestpin-credentials");
  t.is(binding.metadata.namespace, "team");
  t.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "digestpin", namespace: NS }]);
  t.deepEqual(binding.roleRef, {
    apiGroup: "rbac.authorization.k8s.io",
    kind: "Role",
    name: "digestpin-credentials",
  });
});

test("rbac.create=false renders no RBAC; serviceAccount.create=false needs a name", async (t) => {
  const objects = await render(t, [], ["rbac.create=false"]);
  t.false(objects.some((object) => object.kind.includes("Role")));
  const helm = await createHelm(t);
  const missing = await helm([
    "template",
    "digestpin",
    CHART_DIR,
    "--set=serviceAccount.create=false",
  ]);
  t.regex(missing.stderr, /serviceAccount.name is required/);
  const named = await render(t, [], ["serviceAccount.create=false", "serviceAccount.name=corp"]);
  t.false(named.some((object) => object.kind === "ServiceAccount"));
  t.is(the(named, "Deployment").spec.template.spec.serviceAccountName, "corp");
});

/** The webhooks of both rendered configurations, by configuration kind. */
function renderedWebhooks(objects: readonly Rendered[]) {
  return {
    mutating: the(objects, "MutatingWebhookConfiguration").webhooks as Record<string, unknown>[],
    validating: the(objects, "ValidatingWebhookConfiguration").webhooks as Record<
      string,
      unknown
    >[],
  };
}

const withoutClientConfig = (webhooks: Record<string, unknown>[]) =>
  webhooks.map(({ clientConfig: _, ...rest }) => rest);

const fileFor = (namespace: string) =>
  readWebhookFile({
    RELEASE_NAMESPACE: namespace,
    POLICY_CONFIGMAP: "digestpin-policy",
    AUTO_PINS_CONFIGMAP: "digestpin-pins-auto",
  });

test("the webhook settings file: fail closed, NoneOnDryRun, reinvocation, Equivalent, v1, one timeout with its reason beside it", (t) => {
  const file = fileFor(NS);
  const all = [...file.mutating, ...file.validating];
  t.deepEqual(
    all.map((webhook) => webhook.name),
    ["mutate.digestpin.dev", "validate.digestpin.dev", "validate-policy.digestpin.dev"],
  );
  for (const webhook of all) {
    t.like(webhook, {
      sideEffects: "NoneOnDryRun",
      matchPolicy: "Equivalent",
      admissionReviewVersions: ["v1"],
      timeoutSeconds: 10,
    });
    t.is(webhook.clientConfig, undefined, "clientConfig is added by readers");
  }
  t.like(file.mutating[0], { failurePolicy: "Fail", reinvocationPolicy: "IfNeeded" });
  t.like(file.validating[0], { failurePolicy: "Fail" });
  t.like(file.validating[1], { failurePolicy: "Ignore" }); // policy edits: see its comment
  const enforced = {
    matchExpressions: [
      { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system", NS] },
    ],
  };
  t.deepEqual(file.mutating[0]!.namespaceSelector, enforced);
  t.deepEqual(file.validating[0]!.namespaceSelector, enforced);
  t.deepEqual(file.validating[1]!.namespaceSelector, {
    matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: [NS] }],
  });

  // Every failurePolicy and timeoutSeconds written out (not an alias) has its reason right above.
  let reasons = 0;
  const text = readFileSync(WEBHOOKS_FILE, "utf8").split("\n");
  for (const [index, line] of text.entries()) {
    if (/^\s+(timeoutSeconds|failurePolicy): [&\w]/.test(line) && !line.includes("*")) {
      t.regex(text[index - 1] ?? "", /^\s+# \S/, `no reason above line ${index + 1}: ${line}`);
      reasons += 1;
    }
  }
  t.is(reasons, 3); // the timeout, Fail for pods, Ignore for the policy
});

test("pods, ephemeral containers and every pod-template kind go to the webhooks; scale subresources do not", (t) => {
  const file = fileFor(NS);
  const resources = (rules: unknown) =>
    (rules as { apiGroups: string[]; resources: string[]; operations: string[] }[]).flatMap(
      (rule) =>
        rule.apiGroups.flatMap((group) =>
          rule.resources.map((resource) => `${group}/${resource}:${rule.operations.join("+")}`),
        ),
    );
  t.deepEqual(resources(file.mutating[0]!.rules), [
    "/pods:CREATE+UPDATE",
    "/pods/ephemeralcontainers:UPDATE",
  ]);
  const templates = [
    "apps/deployments:CREATE+UPDATE",
    "apps/statefulsets:CREATE+UPDATE",
    "apps/daemonsets:CREATE+UPDATE",
    "apps/replicasets:CREATE+UPDATE",
    "batch/jobs:CREATE+UPDATE",
    "batch/cronjobs:CREATE+UPDATE",
    "/replicationcontrollers:CREATE+UPDATE",
    "/podtemplates:CREATE+UPDATE",
  ];
  t.deepEqual(resources(file.templateRules), templates);
  t.deepEqual(resources(file.validating[0]!.rules), [
    "/pods:CREATE+UPDATE",
    "/pods/ephemeralcontainers:UPDATE",
    ...templates,
  ]);
  t.deepEqual(resources(file.validating[1]!.rules), ["/configmaps:CREATE+UPDATE"]);
});

test("default rendering: the file's webhooks exactly, plus a Service clientConfig and no caBundle (self-managed patches it)", async (t) => {
  const webhooks = renderedWebhooks(await render(t));
  const file = fileFor(NS);
  t.deepEqual(withoutClientConfig(webhooks.mutating), file.mutating);
  t.deepEqual(withoutClientConfig(webhooks.validating), file.validating);
  for (const webhook of [...webhooks.mutating, ...webhooks.validating]) {
    t.deepEqual(webhook.clientConfig, {
      service: {
        name: "digestpin",
        namespace: NS,
        path: file.paths[webhook.name as string],
        port: 443,
      },
    });
  }
});

test("the e2e loader yields the chart's webhooks, with a URL clientConfig instead of the Service", async (t) => {
  const caPem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  for (const [scenario, mutateTemplates] of [
    ["default-values.yaml", false],
    ["mutate-templates-values.yaml", true],
  ] as const) {
    const rendered = renderedWebhooks(await renderScenario(t, scenario));
    const loaded = webhookSettings({
      namespace: NS,
      url: "https://127.0.0.1:8443/",
      caBundle: caPem,
      mutateTemplates,
    });
    t.deepEqual(loaded.mutating.metadata, { name: "digestpin" });
    const args = the(await renderScenario(t, scenario), "Deployment").spec.template.spec
      .containers[0].args as string[];
    t.true(args.includes(`--timeout-seconds=${loaded.timeoutSeconds}`));
    t.is(loaded.validating.kind, "ValidatingWebhookConfiguration");
    t.deepEqual(
      withoutClientConfig(loaded.mutating.webhooks),
      withoutClientConfig(rendered.mutating),
    );
    t.deepEqual(
      withoutClientConfig(loaded.validating.webhooks),
      withoutClientConfig(rendered.validating),
    );
    t.deepEqual(
      [...loaded.mutating.webhooks, ...loaded.validating.webhooks].map((w) => w.clientConfig),
      [
        { url: "https://127.0.0.1:8443/mutate", caBundle: Buffer.from(caPem).toString("base64") },
        { url: "https://127.0.0.1:8443/validate", caBundle: Buffer.from(caPem).toString("base64") },
        { url: "https://127.0.0.1:8443/validate", caBundle: Buffer.from(caPem).toString("base64") },
      ],
    );
  }
  const base64 = Buffer.from(caPem).toString("base64");
  t.is(
    webhookSettings({ namespace: NS, url: "https://h:1", caBundle: base64 }).mutating.webhooks[0]!
      .clientConfig.caBundle,
    base64,
  );
  t.throws(() => webhookSettings({ namespace: NS, url: "http://h:1", caBundle: caPem }), {
    message: /https/,
  });
  t.throws(() => webhookSettings({ namespace: "Bad_NS", url: "https://h:1", caBundle: caPem }), {
    message: /RELEASE_NAMESPACE/,
  });
  t.throws(() => webhookSettings({ namespace: NS, url: "https://h:1", caBundle: "nope" }), {
    message: /caBundle/,
  });
});

test("cert-manager: inject-ca-from names the serving Certificate, whose Secret the Pods mount; no caBundle, no self-managed flags", async (t) => {
  for (const [scenario, secret, issuer] of [
    ["cert-manager-values.yaml", "digestpin-tls", { name: "digestpin-ca", kind: "Issuer" }],
    [
      "cert-manager-issuer-values.yaml",
      "digestpin-serving",
      { name: "corp-ca", kind: "ClusterIssuer" },
    ],
  ] as const) {
    const objects = await renderScenario(t, scenario);
    for (const kind of ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]) {
      t.deepEqual(the(objects, kind).metadata.annotations, {
        "cert-manager.io/inject-ca-from": `${NS}/digestpin`,
      });
    }
    const certificate = the(objects, "Certificate", "digestpin");
    t.like(certificate.spec, {
      secretName: secret,
      dnsNames: [`digestpin.${NS}.svc`, `digestpin.${NS}.svc.cluster.local`],
      usages: ["server auth"],
      issuerRef: { ...issuer, group: "cert-manager.io" },
    });
    const webhooks = renderedWebhooks(objects);
    t.deepEqual(withoutClientConfig(webhooks.mutating), fileFor(NS).mutating);
    for (const webhook of [...webhooks.mutating, ...webhooks.validating]) {
      t.deepEqual(Object.keys(webhook.clientConfig as object), ["service"]);
    }
    const pod = the(objects, "Deployment").spec.template.spec;
    const args = pod.containers[0].args as string[];
    t.true(args.includes("--tls-cert-file=/etc/digestpin/tls/tls.crt"));
    t.true(args.includes("--tls-key-file=/etc/digestpin/tls/tls.key"));
    t.false(args.some((arg) => /self-managed|tls-secret|webhook-configurations/.test(arg)));
    t.deepEqual(pod.volumes[1], { name: "tls", secret: { secretName: secret } });
    t.deepEqual(pod.containers[0].volumeMounts[1], {
      name: "tls",
      mountPath: "/etc/digestpin/tls",
      readOnly: true,
    });
  }
  const chartCa = await renderScenario(t, "cert-manager-values.yaml");
  t.like(the(chartCa, "Certificate", "digestpin-ca").spec, {
    isCA: true,
    secretName: "digestpin-ca",
    issuerRef: { name: "digestpin-selfsigned", kind: "Issuer" },
  });
  t.deepEqual(the(chartCa, "Issuer", "digestpin-ca").spec, { ca: { secretName: "digestpin-ca" } });
  t.deepEqual(the(chartCa, "Issuer", "digestpin-selfsigned").spec, { selfSigned: {} });
});

test("values override only what they name: failure policy and exclusions of the pod webhooks, the timeout of all and the flag", async (t) => {
  const objects = await renderScenario(t, "warn-mode-values.yaml");
  const webhooks = renderedWebhooks(objects);
  const file = fileFor(NS);
  const selector = {
    matchExpressions: [
      {
        key: "kubernetes.io/metadata.name",
        operator: "NotIn",
        values: ["kube-system", NS, "monitoring"],
      },
      { key: "digestpin.dev/enforce", operator: "In", values: ["true"] },
    ],
  };
  t.deepEqual(withoutClientConfig(webhooks.mutating), [
    {
      ...file.mutating[0],
      failurePolicy: "Ignore",
      timeoutSeconds: 5,
      namespaceSelector: selector,
    },
  ]);
  t.deepEqual(withoutClientConfig(webhooks.validating), [
    {
      ...file.validating[0],
      failurePolicy: "Ignore",
      timeoutSeconds: 5,
      namespaceSelector: selector,
    },
    { ...file.validating[1], timeoutSeconds: 5 },
  ]);
  const args = the(objects, "Deployment").spec.template.spec.containers[0].args as string[];
  t.true(args.includes("--timeout-seconds=5"));
});

test("extras: global.imageRegistry, extraVolumes and their mounts, startupProbe, objectSelector and matchConditions of the pod webhooks, trace logs", async (t) => {
  const dir = await tempDir(t, "chart-extras");
  const values = join(dir, "extras.yaml");
  const conditions = [{ name: "only-creates", expression: "request.operation == 'CREATE'" }];
  const objectSelector = {
    matchExpressions: [{ key: "digestpin.dev/skip", operator: "DoesNotExist" }],
  };
  await writeFile(
    values,
    JSON.stringify({
      global: { imageRegistry: "mirror.internal:5000" },
      image: { digest: `sha256:${"1".repeat(64)}` },
      extraVolumes: [{ name: "extra-ca", configMap: { name: "extra-ca" } }],
      extraVolumeMounts: [{ name: "extra-ca", mountPath: "/etc/extra-ca", readOnly: true }],
      startupProbe: { httpGet: { path: "/healthz", port: "metrics" }, failureThreshold: 30 },
      webhooks: { objectSelector, matchConditions: conditions },
      logLevel: "trace",
      priorityClassName: "",
    }),
  );
  const objects = await render(t, [values]);
  const pod = the(objects, "Deployment").spec.template.spec;
  const [container] = pod.containers;
  t.is(
    container.image,
    `mirror.internal:5000/digestpin/digestpin:0.1.0@sha256:${"1".repeat(64)}`,
    "the registry replaced, the path and digest kept",
  );
  t.deepEqual(container.volumeMounts, [
    { name: "tmp", mountPath: "/tmp" },
    { name: "extra-ca", mountPath: "/etc/extra-ca", readOnly: true },
  ]);
  t.deepEqual(pod.volumes.at(-1), { name: "extra-ca", configMap: { name: "extra-ca" } });
  t.deepEqual(container.startupProbe, {
    httpGet: { path: "/healthz", port: "metrics" },
    failureThreshold: 30,
  });
  t.true((container.args as string[]).includes("--log-level=trace"));
  t.is(pod.priorityClassName, undefined, "empty: the cluster's default");

  const file = fileFor(NS);
  const webhooks = renderedWebhooks(objects);
  t.deepEqual(withoutClientConfig(webhooks.mutating), [
    { ...file.mutating[0], objectSelector, matchConditions: conditions },
  ]);
  t.deepEqual(withoutClientConfig(webhooks.validating), [
    { ...file.validating[0], objectSelector, matchConditions: conditions },
    file.validating[1],
  ]);

  // An image.repository without a registry (Docker Hub's) gets the mirror in front.
  const hub = await render(
    t,
    [],
    ["global.imageRegistry=mirror.internal", "image.repository=acme/digestpin"],
  );
  t.is(
    the(hub, "Deployment").spec.template.spec.containers[0].image,
    "mirror.internal/acme/digestpin:0.1.0",
  );
});

test("mutateTemplates adds the template rules to the mutating webhook and passes --mutate-templates", async (t) => {
  const objects = await renderScenario(t, "mutate-templates-values.yaml");
  const file = fileFor(NS);
  t.deepEqual(withoutClientConfig(renderedWebhooks(objects).mutating), [
    {
      ...file.mutating[0],
      rules: [...(file.mutating[0]!.rules as unknown[]), ...file.templateRules],
    },
  ]);
  t.deepEqual(withoutClientConfig(renderedWebhooks(objects).validating), file.validating);
  const args = the(objects, "Deployment").spec.template.spec.containers[0].args as string[];
  t.true(args.includes("--mutate-templates"));
});

test("the policy ConfigMap is kept on uninstall, and every scenario's policy passes `digestpin policy validate`", async (t) => {
  const dir = await tempDir(t, "policies");
  for (const scenario of SCENARIOS) {
    const configMap = the(await renderScenario(t, scenario), "ConfigMap", "digestpin-policy");
    t.deepEqual(configMap.metadata.annotations, { "helm.sh/resource-policy": "keep" });
    t.deepEqual(Object.keys(configMap.data), ["policy.yaml"]);
    const file = join(dir, `${scenario}.policy.yaml`);
    await writeFile(file, configMap.data["policy.yaml"]);
    const validated = await runCli(["policy", "validate", file]);
    t.is(validated.status, 0, `${scenario}: ${validated.stdout}${validated.stderr}`);
    t.regex(validated.stdout, /: ok \(\d+ pins?\)\n$/);
  }
  const warn = the(await renderScenario(t, "warn-mode-values.yaml"), "ConfigMap");
  t.like(parse(warn.data["policy.yaml"]), { mode: "warn", unpinned: "trust-on-first-use" });
});

test("policy.document may be a file's text (--set-file), kept as written; policy.create=false leaves the ConfigMap to you", async (t) => {
  const helm = await createHelm(t);
  const example = readFileSync(new URL("../../examples/policy.yaml", import.meta.url), "utf8");
  const rendered = await helm([
    "template",
    "digestpin",
    CHART_DIR,
    `--namespace=${NS}`,
    `--set-file=policy.document=${new URL("../../examples/policy.yaml", import.meta.url).pathname}`,
  ]);
  t.is(rendered.exitCode, 0, rendered.stderr);
  const configMaps = parseObjects(rendered.stdout);
  t.is(the(configMaps, "ConfigMap").data["policy.yaml"], example);

  const notCreated = await render(
    t,
    [],
    ["policy.create=false", "policy.configMapName=corp-policy"],
  );
  t.false(notCreated.some((object) => object.kind === "ConfigMap"));
  const args = the(notCreated, "Deployment").spec.template.spec.containers[0].args as string[];
  t.true(args.includes(`--policy-configmap=${NS}/corp-policy`));
  const policyWebhook = renderedWebhooks(notCreated).validating[1]!;
  t.regex(JSON.stringify(policyWebhook.matchConditions), /corp-policy/);
});

test("NetworkPolicy and ServiceMonitor when asked for", async (t) => {
  const objects = await renderScenario(t, "observability-values.yaml");
  const policy = the(objects, "NetworkPolicy").spec;
  t.deepEqual(policy.policyTypes, ["Ingress", "Egress"]);
  t.deepEqual(policy.ingress[0], { ports: [{ port: "https", protocol: "TCP" }] });
  t.like(policy.ingress[1], { ports: [{ port: "metrics", protocol: "TCP" }] });
  t.is(policy.egress.length, 2);
  const monitor = the(objects, "ServiceMonitor");
  t.like(monitor.metadata.labels, { release: "prometheus" });
  t.like(monitor.spec.endpoints[0], { port: "metrics", path: "/metrics" });
});

test("values.yaml documents every key with a `# --` comment (helm-docs), and the schema knows every key", (t) => {
  const text = readFileSync(join(CHART_DIR, "values.yaml"), "utf8");
  const lines = text.split("\n");
  const stack: { indent: number; documented: boolean }[] = [];
  const undocumented: string[] = [];
  for (const [index, line] of lines.entries()) {
    const key = /^( *)([A-Za-z][\w.-]*):(?: |$)/.exec(line);
    if (key === null) continue;
    const indent = key[1]!.length;
    while (stack.length > 0 && stack.at(-1)!.indent >= indent) stack.pop();
    if (stack.some((entry) => entry.documented)) continue;
    let above = index - 1;
    const comments: string[] = [];
    while (above >= 0 && /^\s*#/.test(lines[above]!)) comments.unshift(lines[above--]!.trim());
    const documented = comments.some((comment) => comment.startsWith("# -- "));
    const isParent = /:\s*$/.test(line);
    if (!documented && !isParent) undocumented.push(`${index + 1}: ${line.trim()}`);
    stack.push({ indent, documented });
  }
  t.deepEqual(undocumented, []);

  const schema = JSON.parse(readFileSync(join(CHART_DIR, "values.schema.json"), "utf8"));
  const values = parse(text);
  const sameKeys = (node: any, value: any, path: string) => {
    // An empty mapping ({}) is one users fill in (certManager.issuerRef); its keys are optional.
    if (node.additionalProperties !== false || Object.keys(value).length === 0) return;
    t.deepEqual(Object.keys(node.properties).sort(), Object.keys(value).sort(), path);
    for (const [key, child] of Object.entries(node.properties)) {
      if (value[key] !== null && typeof value[key] === "object" && !Array.isArray(value[key])) {
        sameKeys(child, value[key], `${path}.${key}`);
      }
    }
  };
  sameKeys(schema, values, "values");
});

test("the schema's policy enums are the policy's own, and the chart's appVersion is package.json's version", (t) => {
  const schema = JSON.parse(readFileSync(join(CHART_DIR, "values.schema.json"), "utf8"));
  const policy = schema.properties.policy.properties.document.oneOf[1].properties;
  const enumOf = (key: string) => (policy[key].enum as (string | null)[]).filter((v) => v !== null);
  t.deepEqual(enumOf("mode"), [...MODES]);
  t.deepEqual(enumOf("unpinned"), [...UNPINNED_ACTIONS]);
  t.deepEqual(enumOf("drift"), [...DRIFT_ACTIONS]);
  t.deepEqual(enumOf("controllerPods"), [...CONTROLLER_POD_ACTIONS]);
  t.deepEqual(enumOf("registryUnavailable"), [...REGISTRY_UNAVAILABLE_ACTIONS]);
  t.deepEqual(enumOf("rewrite"), [...REWRITES]);

  const chart = parse(readFileSync(join(CHART_DIR, "Chart.yaml"), "utf8"));
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  t.is(chart.appVersion, pkg.version);
});
