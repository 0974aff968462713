// The OCI distribution client (undici): resolve tags, read manifests, trees and blobs, with
// auth, credentials, address guards, retries, deadlines and a coalescing cache.
export { RegistryError } from "./errors.ts";
export { parseRateLimit, type RateLimit, type RateLimitHeaders } from "./rate-limit-headers.ts";
export {
  Resolver,
  type ResolveOptions,
  type ResolverOptions,
  type ResolverReport,
} from "./resolver.ts";
export type { ManifestAnswer } from "./fetch-manifest.ts";
export { RegistryReader, type ReadOptions, type RepositoryName } from "./registry-reader.ts";
export { ImageFacts, type FactsOptions } from "./image-facts.ts";
export type { ManifestTree, TreeImage } from "./image-tree.ts";
export {
  readImageDetails,
  type ImageDetails,
  type LayerInfo,
  type PlatformImage,
} from "./image-details.ts";
export { basesInAnnotations } from "./base-image.ts";
export {
  anonymous,
  credentialId,
  keychainFrom,
  parseDockerConfig,
  type DockerConfig,
  type Keychain,
} from "./credentials.ts";
export { findRegistryConfig, type RegistryConfig } from "./registry-config.ts";
export { CoalescingCache } from "./cache.ts";
