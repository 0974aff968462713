import { createHash } from "node:crypto";
import { RegistryError } from "./errors.ts";

/** What authenticates digestpin to one registry. */
export interface Credential {
  readonly username?: string;
  readonly password?: string;
  /** An OAuth2 refresh token (`identitytoken` in a docker config), exchanged at the realm. */
  readonly identityToken?: string;
}

/** Finds the credential for a registry host, or undefined for anonymous access. */
export type Keychain = (registry: string) => Credential | undefined;

export const anonymous: Keychain = () => undefined;

/** The parsed `auths` (and helper settings) of a docker config.json or pull Secret. */
export interface DockerConfig {
  readonly source: string;
  readonly auths: ReadonlyMap<string, Credential>;
  readonly credHelpers: ReadonlyMap<string, string>;
  readonly credsStore: string | undefined;
}

const DOCKER_HUB_ALIASES = ["docker.io", "index.docker.io", "registry-1.docker.io"];

/**
 * The host an `auths` key names: `https://index.docker.io/v1/` → `docker.io`,
 * `http://Host:5000/v2/` → `host:5000`.
 */
export function authsKeyHost(key: string): string {
  const host =
    key
      .replace(/^[a-z]+:\/\//i, "")
      .split("/")[0]
      ?.toLowerCase() ?? "";
  return DOCKER_HUB_ALIASES.includes(host) ? "docker.io" : host;
}

/** Parses docker config.json text (`{"auths": …}`) or legacy .dockercfg text (`{host: …}`). */
export function parseDockerConfig(text: string, source: string): DockerConfig {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new TypeError(`${source}: not valid JSON`, { cause: error });
  }
  if (typeof document !== "object" || document === null) {
    throw new TypeError(`${source}: expected a JSON object`);
  }
  const doc = document as Record<string, unknown>;
  const legacy = !("auths" in doc) && !("credHelpers" in doc) && !("credsStore" in doc);
  const auths = new Map<string, Credential>();
  for (const [key, entry] of Object.entries(legacy ? doc : asObject(doc.auths))) {
    const credential = toCredential(asObject(entry));
    if (credential !== undefined) auths.set(authsKeyHost(key), credential);
  }
  const credHelpers = new Map<string, string>();
  for (const [key, helper] of Object.entries(asObject(doc.credHelpers))) {
    if (typeof helper === "string") credHelpers.set(authsKeyHost(key), helper);
  }
  const credsStore = typeof doc.credsStore === "string" ? doc.credsStore : undefined;
  return { source, auths, credHelpers, credsStore };
}

/**
 * A keychain over docker configs, first match wins. A registry that only a credential helper
 * knows is an error rather than silently anonymous: digestpin cannot run helpers.
 */
export function keychainFrom(configs: readonly DockerConfig[]): Keychain {
  return (registry) => {
    const host = authsKeyHost(registry);
    for (const config of configs) {
      const credential = config.auths.get(host);
      if (credential !== undefined) return credential;
    }
    for (const config of configs) {
      const helper = config.credHelpers.get(host) ?? config.credsStore;
      if (helper !== undefined) {
        throw new RegistryError(
          "ERR_CREDENTIALS_UNSUPPORTED",
          registry,
          `${config.source} delegates ${host} to the credential helper "docker-credential-${helper}", ` +
            `which digestpin cannot run; put the credentials in "auths" instead`,
        );
      }
    }
    return undefined;
  };
}

/** Each credential object's identity, hashed once (a keychain hands out the same objects). */
const IDS = new WeakMap<Credential, string>();

/** A stable, non-reversible identity of a credential, for cache keys and logs. */
export function credentialId(credential: Credential | undefined): string {
  if (credential === undefined) return "anonymous";
  let id = IDS.get(credential);
  if (id === undefined) {
    const secret = JSON.stringify([
      credential.username,
      credential.password,
      credential.identityToken,
    ]);
    id = createHash("sha256").update(secret).digest("hex").slice(0, 16);
    IDS.set(credential, id);
  }
  return id;
}

function toCredential(entry: Record<string, unknown>): Credential | undefined {
  const identityToken = str(entry.identitytoken) ?? str(entry.identityToken);
  let username = str(entry.username);
  let password = str(entry.password);
  const auth = str(entry.auth);
  if (auth !== undefined && username === undefined) {
    const decoded = Buffer.from(auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon > 0) {
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
  }
  if (identityToken !== undefined) return { ...(username && { username }), identityToken };
  if (username === undefined || password === undefined) return undefined;
  return { username, password };
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}
