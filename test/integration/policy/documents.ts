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
