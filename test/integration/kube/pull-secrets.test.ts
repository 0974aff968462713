import test from "ava";
import { apiPullSecretSource, podKeychain } from "../../../src/kube/index.ts";
import { sharedControlPlane } from "../../harness/kube-shared.ts";

// A pod's registry credentials from a real API server: its imagePullSecrets and its service
// account's, read once and then known at once (the warm review waits on nothing), a missing
// Secret too.

const controlPlane = sharedControlPlane(test, { controllerManager: false });

const dockerConfig = (host: string, username: string): Record<string, string> => ({
  ".dockerconfigjson": Buffer.from(
    JSON.stringify({ auths: { [host]: { username, password: `${username}-password` } } }),
  ).toString("base64"),
});

test("a pod's keychain is read from the API server once, then given at once", async (t) => {
  const { kubeConfig } = controlPlane();
  const namespace = await controlPlane().namespace(t, "pull-secrets");
  const secret = (name: string, host: string, user: string) => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace },
    type: "kubernetes.io/dockerconfigjson",
    data: dockerConfig(host, user),
  });
  const objects = {
    apiVersion: "v1",
    kind: "List",
    items: [
      secret("pod-secret", "registry.example", "pod-user"),
      secret("account-secret", "other.example", "account-user"),
      {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: { name: "builder", namespace },
        imagePullSecrets: [{ name: "account-secret" }],
      },
    ],
  };
  const applied = await controlPlane().kubectl(["apply", "-f", "-"], {
    input: JSON.stringify(objects),
  });
  t.is(applied.exitCode, 0, applied.stderr);
  const source = apiPullSecretSource(kubeConfig);
  const pod = {
    namespace,
    podSpec: {
      serviceAccountName: "builder",
      imagePullSecrets: [{ name: "pod-secret" }, { name: "no-such-secret" }],
    },
    podSecrets: true,
    registrySecrets: [],
  };

  const first = podKeychain(source, pod);
  t.true(first instanceof Promise, "the first review reads the Secrets");
  const read = await first;
  t.is(read("registry.example")?.username, "pod-user");
  t.is(read("other.example")?.username, "account-user");
  t.is(read("elsewhere.example"), undefined);

  // Every Secret and the service account known now (the missing Secret as missing): at once.
  const again = podKeychain(source, pod);
  t.false(again instanceof Promise, "a warm review's keychain is given at once");
  if (again instanceof Promise) return;
  t.is(again("registry.example")?.username, "pod-user");
  t.is(again("other.example")?.username, "account-user");
});
