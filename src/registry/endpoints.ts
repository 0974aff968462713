import { isIP } from "node:net";
import { rootCertificates } from "node:tls";
import { Agent, type Dispatcher } from "undici";
import { checkLiteralAddress, guardedLookup } from "./address-guard.ts";
import { RegistryError } from "./errors.ts";
import {
  ANY_REGISTRY,
  findRegistryConfig,
  upstreamEndpoint,
  type RegistryConfig,
} from "./registry-config.ts";

/** One place a registry's API can be reached: a mirror or the registry itself. */
export interface RegistryEndpoint {
  readonly registry: string;
  readonly url: URL;
  readonly mirror: boolean;
  readonly config: RegistryConfig;
  readonly dispatcher: Dispatcher;
}

export type DispatcherFactory = (
  config: RegistryConfig,
  options: { allowInternal: boolean },
) => Dispatcher;

/** An undici Agent trusting the system CAs plus the registry's own, with the address guard. */
export const defaultDispatcher: DispatcherFactory = (config, { allowInternal }) =>
  new Agent({
    connect: {
      ...(config.ca !== undefined && { ca: [...rootCertificates, config.ca] }),
      lookup: guardedLookup(config.host, allowInternal),
      minVersion: "TLSv1.2",
      timeout: 10_000,
    },
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
    keepAliveTimeout: 30_000,
  });

/**
 * The endpoints of each registry the policy allows, mirrors first, each with its dispatcher
 * (made once and reused, so connections stay warm across reviews).
 */
export class EndpointDirectory {
  readonly #registries: readonly RegistryConfig[];
  readonly #factory: DispatcherFactory;
  readonly #dispatchers = new Map<string, Dispatcher>();

  constructor(
    registries: readonly RegistryConfig[] = ANY_REGISTRY,
    factory: DispatcherFactory = defaultDispatcher,
  ) {
    this.#registries = registries;
    this.#factory = factory;
  }

  /** The registry's entry; throws when the policy does not allow contacting it. */
  config(registry: string): RegistryConfig {
    const config = findRegistryConfig(registry, this.#registries);
    if (config === undefined) {
      throw new RegistryError(
        "ERR_REGISTRY_NOT_ALLOWED",
        registry,
        `registry ${registry} is not in the policy's allowed registries`,
      );
    }
    return config;
  }

  endpoints(registry: string): RegistryEndpoint[] {
    const config = this.config(registry);
    const upstream = upstreamEndpoint(registry, config.insecure === true);
    // An IP literal skips DNS, so the guard looks at it here; and an IP-literal registry is
    // only contacted when an entry names it or the entry allows internal addresses.
    const internal = config.allowPrivateAddresses === true;
    checkLiteralAddress(registry, upstream.hostname, internal);
    if (
      isIP(upstream.hostname.replace(/^\[(.*)\]$/, "$1")) !== 0 &&
      config.host.includes("*") &&
      !internal
    ) {
      throw new RegistryError(
        "ERR_REGISTRY_NOT_ALLOWED",
        registry,
        `registry ${registry} is an IP address; list it in the policy's registries to allow it`,
      );
    }
    // Mirrors are named by the administrator, so they may live on internal addresses.
    const mirrors = (config.mirrors ?? []).map((m) => ({
      url: new URL(m),
      mirror: true,
      internal: true,
    }));
    const all = [
      ...mirrors,
      { url: upstream, mirror: false, internal: config.allowPrivateAddresses === true },
    ];
    return all.map(({ url, mirror, internal }) => ({
      registry,
      url,
      mirror,
      config,
      dispatcher: this.#dispatcher(config, internal),
    }));
  }

  async close(): Promise<void> {
    await Promise.all([...this.#dispatchers.values()].map((d) => d.close()));
  }

  #dispatcher(config: RegistryConfig, allowInternal: boolean): Dispatcher {
    const key = `${config.host}|${allowInternal}`;
    let dispatcher = this.#dispatchers.get(key);
    if (dispatcher === undefined) {
      dispatcher = this.#factory(config, { allowInternal });
      this.#dispatchers.set(key, dispatcher);
    }
    return dispatcher;
  }
}
