import { setTimeout as sleep } from "node:timers/promises";
import {
  ApiException,
  CoreV1Api,
  KubernetesObjectApi,
  type KubeConfig,
} from "@kubernetes/client-node";

/** `sha256:` and 64 times `c`. */
export const digest = (c: string): string => `sha256:${c.repeat(64)}`;

export const POLICY_HEADER = "apiVersion: digestpin.dev/v1alpha1\nkind: Policy\n";
export const PINS_HEADER = "apiVersion: digestpin.dev/v1alpha1\nkind: Pins\n";

/** A pins block: `key: digest` lines. */
export function pinsYaml(pins: Record<string, string>): string {
  const entries = Object.entries(pins);
  if (entries.length === 0) return "pins: {}\n";
  return `pins:\n${entries.map(([key, value]) => `  ${key}: ${value}\n`).join("")}`;
}

/** Creates or replaces a ConfigMap (plain objects through KubernetesObjectApi). */
export async function putConfigMap(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
  data: Record<string, string>,
  labels: Record<string, string> = {},
): Promise<void> {
  const objects = KubernetesObjectApi.makeApiClient(kubeConfig);
  const object = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace, labels },
    data,
  };
  try {
    await objects.create(object);
  } catch (error) {
    if (!(error instanceof ApiException && error.code === 409)) throw error;
    await objects.replace(object);
  }
}

export async function readConfigMapData(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
): Promise<Record<string, string> | undefined> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  try {
    return (await core.readNamespacedConfigMap({ name, namespace })).data;
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return undefined;
    throw error;
  }
}

/** Polls `check` every 10 ms until it returns something other than undefined/false. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}
