import { writeFile } from "node:fs/promises";
import type { KubeConfig } from "@kubernetes/client-node";
import { loadKubeLibrary, reusingKubeConfig } from "../../src/kube/index.ts";
import { stringify } from "yaml";

// src and the tests share the library's ES module instance (src/kube/library.ts).
await loadKubeLibrary();

export interface KubeconfigOptions {
  /** https://127.0.0.1:PORT */
  readonly server: string;
  readonly caPem: string;
  readonly token: string;
  readonly namespace?: string;
}

const NAME = "digestpin-testbed";

/** A kubeconfig with one cluster, one token user and one context, current. */
export function kubeconfigYaml(options: KubeconfigOptions): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: NAME,
        cluster: {
          server: options.server,
          "certificate-authority-data": Buffer.from(options.caPem).toString("base64"),
        },
      },
    ],
    users: [{ name: `${NAME}-admin`, user: { token: options.token } }],
    contexts: [
      {
        name: NAME,
        context: {
          cluster: NAME,
          user: `${NAME}-admin`,
          ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
        },
      },
    ],
    "current-context": NAME,
  });
}

/** Writes the kubeconfig to `path` (mode 0600: it holds the admin token). */
export async function writeKubeconfig(path: string, options: KubeconfigOptions): Promise<void> {
  await writeFile(path, kubeconfigYaml(options), { mode: 0o600 });
}

/** The same configuration for @kubernetes/client-node. */
export function clientKubeConfig(options: KubeconfigOptions): KubeConfig {
  const config = reusingKubeConfig();
  config.loadFromString(kubeconfigYaml(options));
  return config;
}
