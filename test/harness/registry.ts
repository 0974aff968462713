import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { httpsRequest } from "./https-get.ts";
import { tempDir, type Teardown } from "./lifecycle.ts";
import {
  registryConfig,
  htpasswd,
  type RegistryAuth,
  type RegistryConfigInput,
} from "./registry-config.ts";
import {
  manifestRequests,
  readAccessLog,
  type AccessLogEntry,
  type ManifestRequest,
  type ManifestRequestFilter,
} from "./registry-log.ts";
import type { Launch } from "./kube-launch.ts";
import { startService, waitUntilReady } from "./service.ts";
import { createTestCa, type TestCa } from "./test-ca.ts";
import {
  startTokenServer,
  type AccessRules,
  type TokenServer,
  type TokenServerSettings,
  type TokenUser,
} from "./token-server.ts";
import { toolPath } from "./tools.ts";

export type { RegistryAuth } from "./registry-config.ts";

export interface RegistryOptions {
  readonly auth: RegistryAuth;
  /**
   * Accounts (basic and token modes). Default: `admin` (pull, push, delete everything) and, for
   * token auth, `reader` (pull everything); random passwords. Basic auth ignores the rules: any
   * valid account may do anything.
   */
  readonly users?: readonly TokenUser[];
  /** Token mode: what a token requested without credentials grants (default nothing). */
  readonly anonymous?: AccessRules;
  /** Token mode: the rest of the token server's settings (lifetime, key header, hook). */
  readonly token?: Partial<Omit<TokenServerSettings, "users" | "anonymous">>;
  /** The CA that signs the registry's (and token server's) certificate; default a new one. */
  readonly ca?: TestCa;
  /**
   * Address to listen on (default 127.0.0.1): a node's address (node.ts), in the network
   * namespace the test made for it, so that Pods reach the registry too.
   */
  readonly address?: string;
  /** Port to listen on; default one the registry picks (read back from its log). */
  readonly port?: number;
  /** Where its files go; default a temp dir removed on teardown. */
  readonly dir?: string;
  /** How the program is started; default attached to this process (make testbed-up detaches). */
  readonly launch?: Launch;
}

export interface Registry {
  readonly auth: RegistryAuth;
  /** `127.0.0.1:PORT`, the registry part of image references. */
  readonly host: string;
  readonly url: string;
  readonly ca: TestCa;
  readonly caFile: string;
  readonly caPem: string;
  readonly users: readonly TokenUser[];
  readonly tokenServer: TokenServer | undefined;
  readonly logFile: string;
  readonly storageDir: string;
  readonly pid: number | undefined;
  /** `host/` + `nameAndReference`, e.g. `ref("team/app:1.0")`. */
  ref(nameAndReference: string): string;
  accessLog(): Promise<AccessLogEntry[]>;
  /** The manifest GET/HEAD/PUT/DELETE requests the registry has served, from its access log. */
  manifestRequests(filter?: ManifestRequestFilter): Promise<ManifestRequest[]>;
  stop(): Promise<void>;
}

const LISTENING = /listening on ([\d.]+:\d+), tls/;

/** A distribution registry on 127.0.0.1 over TLS, storing into a temp dir; stopped on teardown. */
export async function startRegistry(t: Teardown, options: RegistryOptions): Promise<Registry> {
  const dir = options.dir ?? (await tempDir(t, `registry-${options.auth}`));
  const ca = options.ca ?? (await createTestCa(dir));
  const users = options.users ?? defaultUsers(options.auth);
  const address = options.address ?? "127.0.0.1";
  const tls = await ca.issue("registry", [...new Set([address, "127.0.0.1", "localhost"])], dir);
  const storageDir = join(dir, "storage");
  await mkdir(storageDir);
  let auth: RegistryConfigInput["auth"] = { kind: "none" };
  let tokenServer: TokenServer | undefined;
  if (options.auth === "basic") {
    auth = { kind: "basic", htpasswdFile: join(dir, "htpasswd") };
    await writeFile(auth.htpasswdFile, htpasswd(users), { mode: 0o600 });
  } else if (options.auth === "token") {
    const signer = await ca.issue("token-signer", ["digestpin-token-signer"], dir);
    tokenServer = await startTokenServer(t, {
      ...options.token,
      tls: await ca.issue("token-server", ["localhost", "127.0.0.1"], dir),
      signer: { certPem: signer.cert, keyPem: signer.key },
      service: "digestpin-testbed-registry",
      issuer: "digestpin-testbed-token-issuer",
      users: [...users],
      anonymous: options.anonymous ?? {},
    });
    const { realm, service, issuer } = tokenServer;
    auth = { kind: "token", realm, service, issuer, rootCertBundle: signer.certFile };
  }
  const configFile = join(dir, "config.yml");
  const addr = `${address}:${options.port ?? 0}`;
  await writeFile(configFile, registryConfig({ addr, storageDir, tls, auth }));

  const logFile = join(dir, "registry.log");
  const service = (options.launch ?? startService)({
    name: `registry (${options.auth} auth)`,
    command: await toolPath("registry"),
    args: ["serve", configFile],
    logFile,
    env: { OTEL_TRACES_EXPORTER: "none" },
  });
  t.teardown(() => service.stop());
  let host = "";
  await waitUntilReady(service, async () => {
    host ||= LISTENING.exec(await readFile(logFile, "utf8"))?.[1] ?? "";
    if (host === "") return false;
    const { status } = await httpsRequest(`https://${host}/v2/`, { ca: ca.caPem });
    return status === 200 || status === 401;
  });
  return {
    auth: options.auth,
    host,
    url: `https://${host}`,
    ca,
    caFile: ca.caFile,
    caPem: ca.caPem,
    users,
    tokenServer,
    logFile,
    storageDir,
    pid: service.process.pid,
    ref: (nameAndReference) => `${host}/${nameAndReference}`,
    accessLog: () => readAccessLog(logFile),
    manifestRequests: async (filter) => manifestRequests(await readAccessLog(logFile), filter),
    stop: () => service.stop(),
  };
}

function defaultUsers(auth: RegistryAuth): TokenUser[] {
  if (auth === "none") return [];
  const password = (): string => randomBytes(12).toString("base64url");
  const admin = {
    username: "admin",
    password: password(),
    pull: ["*"],
    push: ["*"],
    delete: ["*"],
  };
  return auth === "basic"
    ? [admin]
    : [admin, { username: "reader", password: password(), pull: ["*"] }];
}
