import { policyFromText, type Policy } from "../../../src/policy/index.ts";

/** `sha256:` and 64 times `c`: distinct, recognizable digests for tests. */
export const digest = (c: string): string => `sha256:${c.repeat(64)}`;

export const HEADER = "apiVersion: digestpin.dev/v1alpha1\nkind: Policy\n";

/** A Policy built from settings YAML (the header is added). */
export function policyOf(body: string): Policy {
  return policyFromText(HEADER + body, "policy.yaml");
}

export const D = digest("d");
export const E = digest("e");
export const X = digest("f");
export const ARM = digest("a");

/** Pins used by the decision tests; `settings` is YAML put before them. */
export function decisionPolicy(settings = ""): Policy {
  return policyOf(`${settings}
pins:
  busybox:1.36:
    digest: ${D}
    pinnedAt: "2026-11-26T10:00:00Z"
    pinnedBy: alice@example.com
    reason: reviewed release
    platforms:
      linux/arm64: ${ARM}
  busybox:latest: ${digest("1")}
  ghcr.io/acme/app:v1: ${digest("2")}
  ghcr.io/acme/app:v1.0: ${digest("2")}
  ghcr.io/acme/other:v1: ${digest("3")}
`);
}
