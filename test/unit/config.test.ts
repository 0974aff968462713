import test from "ava";
import { parseServeConfig } from "../../src/webhook/config.ts";

const ok = (args: string[], env: Record<string, string> = {}) => {
  const result = parseServeConfig(args, env);
  if (result.ok !== true) throw new Error(JSON.stringify(result));
  return result.config;
};
const error = (args: string[], env: Record<string, string> = {}) => {
  const result = parseServeConfig(args, env);
  return result.ok === false ? result.error : "";
};

test("a local run: policy file, ephemeral certificate, no API server", (t) => {
  const config = ok(["--policy", "p.yaml", "--port", "0", "--metrics-port", "0"]);
  t.deepEqual(config.policy, { kind: "file", file: "p.yaml", pinsFiles: [] });
  t.deepEqual(config.tls, { mode: "ephemeral", hosts: ["127.0.0.1", "localhost"] });
  t.is(config.kube, undefined);
  t.is(config.port, 0);
  t.is(config.timeoutSeconds, 10);
  t.is(config.budgetMs, 7500);
});

test("in a cluster: the policy ConfigMap of the pod's namespace by default", (t) => {
  const env = { KUBERNETES_SERVICE_HOST: "10.0.0.1", POD_NAMESPACE: "digestpin-system" };
  const config = ok(["--tls-self-managed", "--webhook-configurations", "m,v"], env);
  t.deepEqual(config.policy, {
    kind: "configmap",
    namespace: "digestpin-system",
    name: "digestpin-policy",
  });
  t.deepEqual(config.kube, { inCluster: true });
  t.like(config.tls, {
    mode: "self-managed",
    secret: "digestpin-tls",
    webhookConfigurations: ["m", "v"],
  });
  t.regex(error([], env), /--tls-self-managed or --tls-cert-file/);
});

test("the registry budget leaves the API server time to get an answer", (t) => {
  t.is(ok(["--policy", "p", "--timeout-seconds", "2"]).budgetMs, 500);
  t.is(ok(["--policy", "p", "--timeout-seconds", "30"]).budgetMs, 22_500);
});

test("mistakes are named", (t) => {
  t.regex(error([]), /--policy FILE or --policy-configmap/);
  t.regex(error(["--policy", "a", "--policy-configmap", "n/b"]), /not both/);
  t.regex(error(["--policy-configmap", "a/b/c"]), /not NAMESPACE\/NAME/);
  t.regex(error(["--policy", "p", "--port", "99999"]), /--port/);
  t.regex(error(["--policy", "p", "--timeout-seconds", "31"]), /--timeout-seconds/);
  t.regex(error(["--policy", "p", "--tls-cert-file", "c"]), /go together/);
  t.regex(error(["--policy-configmap", "ns/p"]), /API server/);
  t.regex(error(["--nope"]), /Unknown option/);
  t.is(parseServeConfig(["--help"], {}).ok, "help");
});

test("a kubeconfig from the flag or KUBECONFIG (several files, merged)", (t) => {
  t.deepEqual(ok(["--policy-configmap", "ns/p"], { KUBECONFIG: "/k" }).kube, {
    kubeconfig: ["/k"],
  });
  t.deepEqual(ok(["--policy-configmap", "ns/p"], { KUBECONFIG: "/a::/b" }).kube, {
    kubeconfig: ["/a", "/b"],
  });
  t.deepEqual(ok(["--policy-configmap", "ns/p", "--kubeconfig", "/x"], { KUBECONFIG: "/k" }).kube, {
    kubeconfig: "/x",
  });
});
