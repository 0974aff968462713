import type { KubernetesObjectApi } from "@kubernetes/client-node";
import { setTimeout as sleep } from "node:timers/promises";
import { podImages, tryCreate } from "../harness/e2e-objects.ts";

/** How a stream of Pod creations went. */
export interface StreamResult {
  readonly created: number;
  /** Pods the API server did not create, with why (webhook unreachable, denied, …). */
  readonly failures: readonly string[];
  /** Of the created Pods, those whose stored image is not `expectedImage`. */
  readonly unpinned: readonly string[];
}

export interface AdmissionStream {
  /** Stops creating, waits for the creation in flight, and says how it went. */
  stop(): Promise<StreamResult>;
}

/**
 * Creates a Pod of `image` every `intervalMs` in `namespace` until stopped, as workloads keep
 * doing while digestpin is upgraded or drained: each one goes through digestpin's webhooks,
 * which must admit it rewritten to `expectedImage`. The Pods select a node label no node has,
 * so they stay Pending and only admission is measured, not the node.
 */
export function startAdmissionStream(
  objects: KubernetesObjectApi,
  namespace: string,
  image: string,
  expectedImage: string,
  intervalMs = 250,
): AdmissionStream {
  const state = { stopped: false, created: 0 };
  const failures: string[] = [];
  const unpinned: string[] = [];
  const run = (async () => {
    for (let i = 0; !state.stopped; i++) {
      const name = `stream-${i}`;
      const result = await tryCreate(objects, {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace },
        spec: {
          containers: [{ name: "app", image }],
          nodeSelector: { "digestpin.dev/no-such-node": "true" },
        },
      });
      if (result.allowed) {
        state.created++;
        const stored = podImages(result.object)["containers[app]"] ?? "";
        if (stored !== expectedImage) unpinned.push(`${name}: ${stored}`);
      } else {
        failures.push(`${name} at ${new Date().toISOString()}: ${result.code} ${result.message}`);
      }
      await sleep(intervalMs);
    }
  })();
  return {
    async stop() {
      state.stopped = true;
      await run;
      return { created: state.created, failures, unpinned };
    },
  };
}
