import { Resolver, type ResolverOptions } from "../../src/registry/resolver.ts";
import { parseReference } from "../../src/reference/index.ts";
import type { RegistryConfig } from "../../src/registry/registry-config.ts";
import type { Registry, Teardown } from "../harness/testbed.ts";

/** The policy entries that let the resolver reach a testbed registry (and its token realm). */
export function registryEntries(registry: Registry): RegistryConfig[] {
  const entry = { ca: registry.caPem, allowPrivateAddresses: true };
  const realm =
    registry.tokenServer === undefined ? [] : [new URL(registry.tokenServer.realm).host];
  return [registry.host, ...realm].map((host) => ({ ...entry, host }));
}

/** A resolver allowed to reach `registry`, closed on teardown. */
export function resolverFor(
  t: Teardown,
  registry: Registry,
  options: Omit<ResolverOptions, "registries"> = {},
): Resolver {
  const resolver = new Resolver({ registries: registryEntries(registry), ...options });
  t.teardown(() => resolver.close());
  return resolver;
}

export const ref = (text: string) => parseReference(text);
