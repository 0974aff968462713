import { quote } from "../../errors.ts";

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
