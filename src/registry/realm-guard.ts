import { checkLiteralAddress } from "./address-guard.ts";
import { RegistryError } from "./errors.ts";
import { findRegistryConfig, type RegistryConfig } from "./registry-config.ts";

/**
 * The rule for token realms (the same as the Resolver's): credentials go only to an https realm
 * (http only for an insecure registry) on the registry's own host, Docker Hub's auth.docker.io,
 * or a host the policy lists; never to an internal address the registry may not use.
 */
export function realmGuard(
  registries: readonly RegistryConfig[] | undefined,
): (registry: string, endpoint: URL, realm: URL) => void {
  return (registry, endpoint, realm) => {
    const config = findRegistryConfig(registry, registries);
    const refuse = (why: string): never => {
      throw new RegistryError(
        "ERR_REGISTRY_NOT_ALLOWED",
        registry,
        `refusing token realm ${realm.origin}: ${why}`,
      );
    };
    const insecure = config?.insecure === true;
    if (realm.protocol !== "https:" && !(insecure && realm.protocol === "http:")) {
      refuse("it is not https");
    }
    const host = realm.hostname;
    const dockerHub = endpoint.hostname === "registry-1.docker.io" && host === "auth.docker.io";
    const listed =
      registries?.some((r) => !r.host.includes("*") && r.host.split(":")[0] === host) === true;
    if (host !== endpoint.hostname && !dockerHub && !listed) {
      refuse(`${host} is neither ${endpoint.hostname} nor a registry the policy lists`);
    }
    checkLiteralAddress(
      registry,
      host,
      config?.allowPrivateAddresses === true || host === endpoint.hostname,
    );
  };
}
