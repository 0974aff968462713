import { lookup as dnsLookup } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { RegistryError } from "./errors.ts";

/**
 * Addresses a registry name must not lead to unless the policy allows it for that registry:
 * loopback, private, link-local (cloud metadata at 169.254.169.254), shared, benchmark,
 * multicast and reserved ranges. Guards the webhook against a Pod naming an internal service
 * as its registry (server-side request forgery).
 */
const internal = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  internal.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  internal.addSubnet(network, prefix, "ipv6");
}

export function isInternalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 4) return internal.check(address, "ipv4");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  return mapped !== undefined ? internal.check(mapped, "ipv4") : internal.check(address, "ipv6");
}

/** Refuses an IP-literal hostname in an internal range (those never reach the DNS lookup). */
export function checkLiteralAddress(
  registry: string,
  hostname: string,
  allowInternal: boolean,
): void {
  const bare = hostname.replace(/^\[(.*)\]$/, "$1");
  if (!allowInternal && isInternalAddress(bare))
    throw internalError(registry, hostname, bare, "is");
}

/**
 * A `lookup` for net/tls connections that fails when a name resolves to an internal address,
 * checked on the addresses actually connected to (so DNS rebinding cannot slip past).
 */
export function guardedLookup(registry: string, allowInternal: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { all: true }, (error, found) => {
      const addresses = error ? [] : found;
      const bad = addresses.find((a) => isInternalAddress(a.address));
      const first = addresses[0];
      if (error) callback(error, []);
      else if (!allowInternal && bad !== undefined) {
        callback(internalError(registry, hostname, bad.address, "resolves to"), []);
      } else if (options.all === true) callback(null, addresses);
      else if (first === undefined)
        callback(
          new RegistryError("ERR_REGISTRY_UNREACHABLE", registry, `${hostname} has no address`),
          [],
        );
      else callback(null, first.address, first.family);
    });
  };
}

function internalError(
  registry: string,
  hostname: string,
  address: string,
  relation: "is" | "resolves to",
): RegistryError {
  return new RegistryError(
    "ERR_REGISTRY_NOT_ALLOWED",
    registry,
    `${hostname} ${relation} the internal address ${address}; list the registry with ` +
      `allowPrivateAddresses: true in the policy if it really is served there`,
  );
}
