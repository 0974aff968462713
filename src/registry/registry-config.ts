/** How to reach one registry; the policy's `registries` entries have this shape. */
export interface RegistryConfig {
  /** `host[:port]`, or `*.example.com` for any subdomain. `docker.io` covers Docker Hub. */
  readonly host: string;
  /** Endpoints tried in order before the registry itself (`https://mirror:5000`). */
  readonly mirrors?: readonly string[];
  /** Plain HTTP instead of HTTPS. */
  readonly insecure?: boolean;
  /** PEM bundle of the certificate authorities trusted for this registry. */
  readonly ca?: string;
  /** Whether the registry may resolve to loopback, private or link-local addresses. */
  readonly allowPrivateAddresses?: boolean;
}

/**
 * The entry covering `host`, or undefined when none does. `registries` undefined means any
 * registry may be contacted by name (the address guards still apply): the result is then a
 * default entry.
 */
export function findRegistryConfig(
  host: string,
  registries: readonly RegistryConfig[] | undefined,
): RegistryConfig | undefined {
  const wanted = host.toLowerCase();
  if (registries === undefined) return { host: wanted };
  return (
    registries.find((r) => r.host.toLowerCase() === wanted) ??
    registries.find((r) => matchesWildcard(r.host.toLowerCase(), wanted))
  );
}

function matchesWildcard(pattern: string, host: string): boolean {
  return (
    pattern.startsWith("*.") && host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1
  );
}

/** Where the registry API of `host` is served: Docker Hub's API lives on another name. */
export function upstreamEndpoint(host: string, insecure: boolean): URL {
  const apiHost = host === "docker.io" ? "registry-1.docker.io" : host;
  return new URL(`${insecure ? "http" : "https"}://${apiHost}`);
}
