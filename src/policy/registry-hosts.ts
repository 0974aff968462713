import { findRegistryConfig } from "../registry/registry-config.ts";
import { quote } from "./issues.ts";
import type { RegistryRule } from "./schema.ts";

const LABEL = "[a-z0-9](?:[a-z0-9-]*[a-z0-9])?";
const HOST_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*(?::\\d{1,5})?$`);
const IPV6 = /^\[[0-9a-f:]+\](?::\d{1,5})?$/;

/** A registry host as stored: lowercase, Docker Hub's legacy name as `docker.io`. */
export function canonicalHost(host: string): string {
  const lower = host.toLowerCase();
  return lower === "index.docker.io" ? "docker.io" : lower;
}

/** Why `host` cannot be a `registries[].host`, or null. */
export function hostPatternProblem(host: string): string | null {
  const lower = host.toLowerCase();
  if (lower === "*") return null;
  if (lower.includes("://"))
    return `${quote(host)}: write the host without a scheme (e.g. "ghcr.io")`;
  if (lower.includes("/")) return `${quote(host)}: write the host[:port] only, without a path`;
  const name = lower.startsWith("*.") ? lower.slice(2) : lower;
  if (HOST_NAME.test(name) || (name === lower && IPV6.test(lower))) return null;
  return `${quote(host)} is not a registry host[:port], "*.domain[:port]" or "*"`;
}

/** Which registries a policy lets digestpin contact. */
export interface RegistryMatcher {
  /** False when the policy lists no registries: then any registry is allowed by name. */
  readonly restricted: boolean;
  /**
   * Whether a reference to `registry` may be resolved. The same lookup as the resolver's
   * (findRegistryConfig), so decide() and the resolver never disagree.
   */
  allows(registry: string): boolean;
  /** The hosts listed, for messages. */
  readonly hosts: readonly string[];
}

export function compileRegistries(rules: readonly RegistryRule[] | null): RegistryMatcher {
  if (rules === null) return { restricted: false, allows: () => true, hosts: [] };
  return {
    restricted: true,
    allows: (registry) => findRegistryConfig(canonicalHost(registry), rules) !== undefined,
    hosts: rules.map((rule) => rule.host),
  };
}
