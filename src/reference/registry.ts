import { quote } from "../errors.ts";
import { DOMAIN, DOMAIN_COMPONENT, IPV6_ADDRESS, PORT } from "./grammar.ts";

const NOT_LABEL_CHARACTER = /[^a-zA-Z0-9-]/;
const NOT_IPV6_CHARACTER = /[^a-fA-F0-9:]/;

/** Whether `registry` is a host name, IPv4 or bracketed IPv6 address, with an optional port. */
export function isRegistry(registry: string): boolean {
  return DOMAIN.test(registry);
}

/** Why `registry` is not a valid registry, or null when it is. */
export function registryProblem(registry: string): string | null {
  if (DOMAIN.test(registry)) return null;
  const where = `registry ${quote(registry)}`;
  const split = registry.startsWith("[") ? splitBracketed(registry) : splitHostPort(registry);
  if (typeof split === "string") return `${where}: ${split}`;
  const problem = split.ipv6 ? ipv6Problem(split.host) : hostNameProblem(split.host);
  if (problem !== null) return `${where}: ${problem}`;
  if (split.port !== null && !PORT.test(split.port)) {
    return split.port === ""
      ? `${where}: the port after ":" is missing`
      : `${where}: port ${quote(split.port)} must be a number`;
  }
  return `${where}: not a host name, IPv4 address or bracketed IPv6 address with an optional port`;
}

interface HostPort {
  readonly host: string;
  readonly port: string | null;
  readonly ipv6: boolean;
}

function splitBracketed(registry: string): HostPort | string {
  const close = registry.indexOf("]");
  if (close === -1) return `the IPv6 address has no closing "]"`;
  const after = registry.slice(close + 1);
  if (after !== "" && !after.startsWith(":")) {
    return `only ":" and a port may follow the "]" of an IPv6 address`;
  }
  return { host: registry.slice(1, close), port: after === "" ? null : after.slice(1), ipv6: true };
}

function splitHostPort(registry: string): HostPort | string {
  const colon = registry.indexOf(":");
  if (colon === -1) return { host: registry, port: null, ipv6: false };
  if (registry.includes(":", colon + 1)) {
    return `an IPv6 address must be written in brackets, e.g. "[fc00::1]:5000"`;
  }
  return { host: registry.slice(0, colon), port: registry.slice(colon + 1), ipv6: false };
}

function ipv6Problem(address: string): string | null {
  if (IPV6_ADDRESS.test(address)) return null;
  if (address === "") return "the IPv6 address between the brackets is empty";
  const bad = NOT_IPV6_CHARACTER.exec(address)?.[0] ?? "";
  return `${quote(bad)} is not allowed in an IPv6 address: only hex digits and ":" (no zone, no embedded IPv4)`;
}

function hostNameProblem(host: string): string | null {
  if (host === "") return "the host name is empty";
  for (const label of host.split(".")) {
    if (DOMAIN_COMPONENT.test(label)) continue;
    if (label === "") {
      return `the host name has an empty label (a "." at the start or end, or "..")`;
    }
    const bad = NOT_LABEL_CHARACTER.exec(label);
    if (bad !== null) {
      return `${quote(bad[0])} in ${quote(label)} is not allowed in a host name (letters, digits and "-" only)`;
    }
    return `host name label ${quote(label)} must start and end with a letter or digit`;
  }
  return null;
}

/**
 * The entry of a list of registries that covers `host`: the entry naming it exactly, else the
 * first wildcard that matches (`*.example.com` for any subdomain, `*` for any registry).
 * Case-insensitive. The one rule for "is this registry listed", so that the policy and the
 * registry client never disagree.
 */
export function entryForRegistry<T extends { readonly host: string }>(
  host: string,
  entries: readonly T[],
): T | undefined {
  const wanted = host.toLowerCase();
  return (
    entries.find((entry) => entry.host.toLowerCase() === wanted) ??
    entries.find((entry) => matchesWildcard(entry.host.toLowerCase(), wanted))
  );
}

function matchesWildcard(pattern: string, host: string): boolean {
  if (pattern === "*") return true;
  return pattern.startsWith("*.") && host.endsWith(pattern.slice(1));
}
