/**
 * Where a policy lives in a cluster: names, keys and the label digestpin's loaders and writers
 * agree on (docs/policy.md, "Where the policy lives").
 */

/** The webhook's namespace when none is configured. */
export const DEFAULT_NAMESPACE = "digestpin-system";

/** The human-owned policy ConfigMap and its key. */
export const POLICY_CONFIGMAP = "digestpin-policy";
export const POLICY_KEY = "policy.yaml";

/** Further pins: every ConfigMap with this label set to "true", key `pins.yaml`, kind Pins. */
export const PINS_LABEL = "digestpin.dev/pins";
export const PINS_LABEL_SELECTOR = `${PINS_LABEL}=true`;
export const PINS_KEY = "pins.yaml";

/** Where trust-on-first-use pins are recorded (a pins ConfigMap of its own). */
export const AUTO_PINS_CONFIGMAP = "digestpin-pins-auto";

/** `configmap NAMESPACE/NAME`: how a ConfigMap is named in issues, logs and pin origins. */
export function configMapSource(namespace: string, name: string): string {
  return `configmap ${namespace}/${name}`;
}
