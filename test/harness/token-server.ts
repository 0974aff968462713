import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Teardown } from "./lifecycle.ts";
import { authenticate, grantedAccess, type AccessRules, type TokenUser } from "./token-access.ts";
import { parseScope, signToken, type KeyHeader, type ResourceActions } from "./registry-jwt.ts";
import type { ServingFiles } from "./test-ca.ts";

export type { AccessRules, TokenUser } from "./token-access.ts";

/**
 * What the token server does; a live object, so fault tests may change it while it runs.
 * `expiresIn` is what the response reports; the token's `exp` is `lifetime` seconds from now
 * (default `expiresIn`). The registry accepts a token until 60 s after `exp` (token.Leeway).
 */
export interface TokenServerSettings {
  users: TokenUser[];
  anonymous: AccessRules;
  expiresIn: number;
  lifetime?: number;
  keyHeader: KeyHeader;
  /** Sees every request before it is answered; a returned response replaces the real one. */
  onRequest?: (request: TokenRequest) => { status: number; body?: string } | undefined;
}

/** One request to the token endpoint, as recorded (credentials left out). */
export interface TokenRequest {
  readonly method: string;
  /** `password` or `refresh_token` for the OAuth2 POST form, `basic` for the GET form. */
  readonly grantType: string;
  /** The authenticated account; "" when anonymous or refused. */
  account: string;
  readonly service: string;
  readonly scopes: readonly string[];
  status: number;
  granted: readonly ResourceActions[];
}

export interface TokenServer {
  /** The realm the registry's challenge names: https://localhost:PORT/token. */
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  readonly settings: TokenServerSettings;
  /** Every request so far, oldest first. */
  readonly requests: readonly TokenRequest[];
  /** How many tokens were issued (requests answered 200). */
  issued(): number;
  stop(): Promise<void>;
}

export interface TokenServerOptions extends Partial<TokenServerSettings> {
  /** TLS serving certificate for localhost and 127.0.0.1. */
  readonly tls: ServingFiles;
  /** The key that signs tokens; its certificate goes into the registry's rootcertbundle. */
  readonly signer: { readonly certPem: string; readonly keyPem: string };
  readonly service: string;
  readonly issuer: string;
}

/**
 * The Docker token protocol (distribution's docs/spec/auth/token.md and oauth.md), on
 * 127.0.0.1, port 0. The realm says `localhost`: go-containerregistry refuses a realm that is a
 * loopback IP literal unless it is the registry's own host:port (bearer.go validateRealmURL).
 */
export async function startTokenServer(
  t: Teardown,
  options: TokenServerOptions,
): Promise<TokenServer> {
  const { tls, signer, service, issuer, ...rest } = options;
  const settings: TokenServerSettings = {
    users: [],
    anonymous: {},
    expiresIn: 300,
    keyHeader: "x5c",
    ...rest,
  };
  const requests: TokenRequest[] = [];
  const refreshTokens = new Map<string, string>();

  const issue = (request: TokenRequest, offline: boolean, res: ServerResponse): void => {
    const user = settings.users.find((u) => u.username === request.account);
    request.granted = grantedAccess(request.scopes, user ?? settings.anonymous);
    const token = signToken(signer, settings.keyHeader, {
      issuer,
      subject: request.account,
      audience: request.service,
      lifetime: settings.lifetime ?? settings.expiresIn,
      access: request.granted,
    });
    const body: Record<string, unknown> = {
      access_token: token,
      expires_in: settings.expiresIn,
      issued_at: new Date().toISOString(),
    };
    if (request.method === "GET") body.token = token;
    else body.scope = request.scopes.join(" ");
    if (offline && request.account !== "") {
      const refreshToken = randomUUID();
      refreshTokens.set(refreshToken, request.account);
      body.refresh_token = refreshToken;
    }
    reply(res, request, 200, JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "https://localhost");
    if (url.pathname !== "/token") {
      reply(res, undefined, 404, "{}");
      return;
    }
    const form =
      req.method === "POST" ? new URLSearchParams(await readBody(req)) : url.searchParams;
    const request: TokenRequest = {
      method: req.method ?? "",
      grantType: req.method === "POST" ? (form.get("grant_type") ?? "") : "basic",
      account: "",
      service: form.get("service") ?? "",
      scopes: form
        .getAll("scope")
        .flatMap((s) => s.split(" "))
        .filter((s) => s !== ""),
      status: 0,
      granted: [],
    };
    requests.push(request);
    const refusal = validate(request, service);
    const { account, offline } = authenticate(request.grantType, form, {
      authorization: req.headers.authorization,
      users: settings.users,
      refreshTokens,
    });
    request.account = account ?? "";
    const override = settings.onRequest?.(request);
    if (override !== undefined) reply(res, request, override.status, override.body);
    else if (refusal !== undefined) refuse(res, request, 400, refusal);
    else if (account === undefined) refuse(res, request, 401, "invalid credentials");
    else issue(request, offline, res);
  };

  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      reply(res, undefined, 500, JSON.stringify({ details: String(error) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => {
        resolve();
      });
    });
  t.teardown(stop);
  return {
    realm: `https://localhost:${port}/token`,
    service,
    issuer,
    settings,
    requests,
    issued: () => requests.filter((r) => r.status === 200).length,
    stop,
  };
}

function validate(request: TokenRequest, service: string): string | undefined {
  if (request.method !== "GET" && request.method !== "POST") return "unsupported method";
  if (!["basic", "password", "refresh_token"].includes(request.grantType)) {
    return `unsupported grant_type ${request.grantType}`;
  }
  if (request.service !== service) return `unknown service ${request.service}`;
  const invalid = request.scopes.find((s) => parseScope(s) === undefined);
  return invalid === undefined ? undefined : `invalid scope ${invalid}`;
}

function refuse(res: ServerResponse, request: TokenRequest, status: number, why: string): void {
  if (status === 401) res.setHeader("WWW-Authenticate", 'Basic realm="digestpin testbed token"');
  reply(res, request, status, JSON.stringify({ errors: [{ code: "DENIED", message: why }] }));
}

function reply(
  res: ServerResponse,
  request: TokenRequest | undefined,
  status: number,
  body = "",
): void {
  if (request !== undefined) request.status = status;
  res.writeHead(status, { "Content-Type": "application/json" }).end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
