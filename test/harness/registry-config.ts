import { randomBytes } from "node:crypto";
import bcrypt from "bcryptjs";
import { stringify } from "yaml";

export type RegistryAuth = "none" | "basic" | "token";

export interface RegistryConfigInput {
  /** host:port to listen on; port 0 lets the registry choose (it logs the address). */
  readonly addr: string;
  readonly storageDir: string;
  readonly tls: { readonly certFile: string; readonly keyFile: string };
  readonly auth:
    | { readonly kind: "none" }
    | { readonly kind: "basic"; readonly htpasswdFile: string }
    | {
        readonly kind: "token";
        readonly realm: string;
        readonly service: string;
        readonly issuer: string;
        readonly rootCertBundle: string;
      };
}

/** The registry's config.yml (distribution v3 configuration reference). */
export function registryConfig(input: RegistryConfigInput): string {
  const config = {
    version: "0.1",
    log: { level: "info", formatter: "text", accesslog: { disabled: false } },
    storage: {
      filesystem: { rootdirectory: input.storageDir },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: {
      addr: input.addr,
      secret: randomBytes(16).toString("hex"),
      tls: { certificate: input.tls.certFile, key: input.tls.keyFile },
      headers: { "X-Content-Type-Options": ["nosniff"] },
    },
    health: { storagedriver: { enabled: false } },
    ...authSection(input.auth),
  };
  return stringify(config);
}

function authSection(auth: RegistryConfigInput["auth"]): Record<string, unknown> {
  switch (auth.kind) {
    case "none":
      return {};
    case "basic":
      return { auth: { htpasswd: { realm: "digestpin testbed", path: auth.htpasswdFile } } };
    case "token":
      return {
        auth: {
          token: {
            realm: auth.realm,
            service: auth.service,
            issuer: auth.issuer,
            rootcertbundle: auth.rootCertBundle,
          },
        },
      };
  }
}

/**
 * An htpasswd file for `users`. distribution accepts only bcrypt entries; cost 4 (the minimum)
 * because the registry checks the hash on every request.
 */
export function htpasswd(users: readonly { username: string; password: string }[]): string {
  return users.map((u) => `${u.username}:${bcrypt.hashSync(u.password, 4)}\n`).join("");
}
