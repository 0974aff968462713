import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { DigestpinError, quote } from "../errors.ts";
import {
  keychainFrom,
  parseDockerConfig,
  RegistryError,
  type Keychain,
  type RegistryConfig,
} from "../registry/index.ts";

/** The options every command that talks to registries takes. */
export const registryOptions = {
  "docker-config": { type: "string" },
  "ca-file": { type: "string" },
  "insecure-registry": { type: "string", multiple: true },
} as const;

export const registryOptionsUsage = `  --docker-config FILE        Credentials (docker config.json "auths"); default
                              $DOCKER_CONFIG/config.json or ~/.docker/config.json if present
  --ca-file FILE              Also trust these CA certificates (PEM) for every registry
  --insecure-registry HOST    Talk plain HTTP to HOST (host[:port]); repeatable
`;

export interface RegistryFlags {
  readonly "docker-config"?: string | undefined;
  readonly "ca-file"?: string | undefined;
  readonly "insecure-registry"?: readonly string[] | undefined;
}

/**
 * Registry access for a person at a terminal: any registry, including ones on their own
 * machine or network (the webhook's address guards protect a cluster, not a laptop).
 */
export async function registriesFromFlags(flags: RegistryFlags): Promise<RegistryConfig[]> {
  const caFile = flags["ca-file"];
  const ca = caFile === undefined ? undefined : await readFlagFile("--ca-file", caFile);
  const common = { allowPrivateAddresses: true, ...(ca !== undefined && { ca }) };
  const insecure = (flags["insecure-registry"] ?? []).map((host) => ({
    ...common,
    host,
    insecure: true,
  }));
  return [...insecure, { ...common, host: "*" }];
}

/** Credentials from --docker-config, or the docker CLI's usual file when it exists. */
export async function keychainFromFlags(
  flags: RegistryFlags,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Keychain> {
  const explicit = flags["docker-config"];
  const home =
    env.DOCKER_CONFIG ?? (env.HOME === undefined ? undefined : join(env.HOME, ".docker"));
  const file = explicit ?? (home === undefined ? undefined : join(home, "config.json"));
  if (file === undefined) return () => undefined;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if (explicit === undefined && (error as { code?: string }).code === "ENOENT")
      return () => undefined;
    throw unreadable(explicit === undefined ? "the docker config" : "--docker-config", file, error);
  }
  try {
    return keychainFrom([parseDockerConfig(text, file)]);
  } catch (error) {
    if (error instanceof DigestpinError) throw error;
    throw new DigestpinError(
      "ERR_DOCKER_CONFIG",
      `${(error as Error).message}; a docker config.json is a JSON object with "auths"`,
      { cause: error },
    );
  }
}

async function readFlagFile(flag: string, file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw unreadable(flag, file, error);
  }
}

function unreadable(what: string, file: string, error: unknown): DigestpinError {
  const code = (error as { code?: unknown }).code;
  const why =
    code === "ENOENT" ? "no such file" : code === "EISDIR" ? "a directory" : String(code ?? error);
  return new DigestpinError("ERR_FILE", `${what} ${quote(file)} cannot be read: ${why}`, {
    cause: error,
  });
}

/**
 * A registry error as the CLI tells it: the registry client's advice for the webhook (a
 * private CA goes into the policy's registries) becomes the CLI's flag, --ca-file.
 */
export function cliRegistryError(error: unknown): unknown {
  if (!(error instanceof RegistryError) || error.code !== "ERR_REGISTRY_TLS") return error;
  const [what] = error.message.split("; if it uses a private CA");
  return new RegistryError(
    error.code,
    error.registry,
    `${what ?? error.message}; if it uses a private CA, give its certificate with --ca-file FILE`,
    { cause: error, ...(error.status !== undefined && { status: error.status }) },
  );
}
