import { entryForRegistry } from "../reference/index.ts";

/** How to reach one registry; the policy's `registries` entries have this shape. */
export interface RegistryConfig {
  /**
   * `host[:port]`; `*.example.com` for any subdomain; `*` for any registry. `docker.io`
   * covers Docker Hub.
   */
  readonly host: string;
  /** Endpoints tried in order before the registry itself (`https://mirror:5000`). */
  readonly mirrors?: readonly string[];
  /** Plain HTTP instead of HTTPS. */
  readonly insecure?: boolean;
  /** PEM bundle of the certificate authorities trusted for this registry. */
  readonly ca?: string;
  /** Whether the registry may be (or resolve to) loopback, private or link-local addresses. */
  readonly allowPrivateAddresses?: boolean;
}

/** Policies without a `registries` list allow any registry by name, guards applying. */
export const ANY_REGISTRY: readonly RegistryConfig[] = [{ host: "*" }];

/** The entry covering `host` (exact entries first, then wildcards), or undefined. */
export function findRegistryConfig(
  host: string,
  registries: readonly RegistryConfig[] = ANY_REGISTRY,
): RegistryConfig | undefined {
  return entryForRegistry(host, registries);
}

/** Where the registry API of `host` is served: Docker Hub's API lives on another name. */
export function upstreamEndpoint(host: string, insecure: boolean): URL {
  const apiHost = host === "docker.io" ? "registry-1.docker.io" : host;
  return new URL(`${insecure ? "http" : "https"}://${apiHost}`);
}
