import type { Dispatcher } from "undici";
import { credentialId, type Credential } from "./credentials.ts";
import { RegistryError } from "./errors.ts";
import { discard, readCapped, send, type HttpResponse } from "./http.ts";
import { statusError } from "./status.ts";
import { parseWwwAuthenticate, type Challenge } from "./www-authenticate.ts";

/** Who is asking for what, on which endpoint. */
export interface AuthRequest {
  readonly registry: string;
  readonly endpoint: URL;
  readonly repository: string;
  readonly credential: Credential | undefined;
  readonly dispatcher: Dispatcher;
  readonly signal: AbortSignal;
}

export interface AuthenticatorOptions {
  /** Throws when a token realm may not be contacted for this registry (SSRF guard). */
  readonly checkRealm: (registry: string, endpoint: URL, realm: URL) => void;
  readonly now?: () => number;
}

const TOKEN_BODY_LIMIT = 64 * 1024;
const DEFAULT_TOKEN_SECONDS = 60; // the token spec's default when expires_in is absent

/**
 * Turns 401 challenges into Authorization headers (Docker token protocol or Basic) and keeps
 * them per endpoint + scope + credential until they expire, so warm requests skip the 401.
 */
export class Authenticator {
  readonly #options: AuthenticatorOptions;
  readonly #now: () => number;
  readonly #headers = new Map<string, { value: string; expiresAt: number }>();

  constructor(options: AuthenticatorOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** The Authorization header already known for this request, if any. */
  cached(req: AuthRequest): string | undefined {
    const entry = this.#headers.get(cacheKey(req));
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.#now()) return entry.value;
    this.#headers.delete(cacheKey(req));
    return undefined;
  }

  /** Answers the challenge of a 401 response; throws when it cannot be answered. */
  async authorize(req: AuthRequest, unauthorized: HttpResponse): Promise<string> {
    const challenges = parseWwwAuthenticate(unauthorized.headers["www-authenticate"] ?? "");
    const bearer = challenges.find((c) => c.scheme === "bearer" && c.params.realm !== undefined);
    const basic = challenges.find((c) => c.scheme === "basic");
    let value: string;
    let lifetimeMs: number;
    if (bearer !== undefined) {
      ({ value, lifetimeMs } = await this.#token(req, bearer));
    } else if (basic !== undefined && req.credential?.password !== undefined) {
      value = basicHeader(req.credential);
      lifetimeMs = Number.POSITIVE_INFINITY;
    } else {
      throw unauthorizedError(req, challenges);
    }
    this.#headers.set(cacheKey(req), { value, expiresAt: this.#now() + lifetimeMs });
    return value;
  }

  /** Forgets a header the registry just refused (expired or revoked token). */
  forget(req: AuthRequest): void {
    this.#headers.delete(cacheKey(req));
  }

  async #token(
    req: AuthRequest,
    challenge: Challenge,
  ): Promise<{ value: string; lifetimeMs: number }> {
    const realm = parseRealm(req, challenge.params.realm ?? "");
    this.#options.checkRealm(req.registry, req.endpoint, realm);
    const service = challenge.params.service;
    const scope = `repository:${req.repository}:pull`;
    const response = await send(
      req.dispatcher,
      req.registry,
      tokenRequest(req, realm, service, scope),
    );
    if (response.status !== 200) {
      await discard(response);
      throw statusError(
        req.registry,
        response,
        `a pull token for ${req.repository} from ${realm.origin}`,
      );
    }
    const body = await readCapped(req.registry, response, TOKEN_BODY_LIMIT, req.signal);
    const { token, expiresIn } = parseTokenResponse(req.registry, body);
    // Renew a little early so a token never expires between our check and the registry's.
    const lifetimeMs = Math.max(0, expiresIn * 1000 * 0.9 - 1000);
    return { value: `Bearer ${token}`, lifetimeMs };
  }
}

function tokenRequest(req: AuthRequest, realm: URL, service: string | undefined, scope: string) {
  const credential = req.credential;
  if (credential?.identityToken !== undefined) {
    const form = new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: credential.identityToken,
      client_id: "digestpin",
      scope,
      ...(service !== undefined && { service }),
    });
    return {
      method: "POST" as const,
      url: realm,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
      signal: req.signal,
    };
  }
  const url = new URL(realm);
  if (service !== undefined) url.searchParams.set("service", service);
  url.searchParams.set("scope", scope);
  const headers: Record<string, string> =
    credential?.password !== undefined ? { authorization: basicHeader(credential) } : {};
  return { method: "GET" as const, url, headers, signal: req.signal };
}

function parseTokenResponse(registry: string, body: Buffer): { token: string; expiresIn: number } {
  let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
  try {
    parsed = JSON.parse(body.toString("utf8")) as typeof parsed;
  } catch (error) {
    throw new RegistryError("ERR_REGISTRY_PROTOCOL", registry, "token response is not JSON", {
      cause: error,
    });
  }
  const token =
    typeof parsed.token === "string" && parsed.token !== "" ? parsed.token : parsed.access_token;
  if (typeof token !== "string" || token === "") {
    throw new RegistryError("ERR_REGISTRY_PROTOCOL", registry, "token response has no token");
  }
  const expiresIn =
    typeof parsed.expires_in === "number" && parsed.expires_in > 0
      ? parsed.expires_in
      : DEFAULT_TOKEN_SECONDS;
  return { token, expiresIn };
}

function parseRealm(req: AuthRequest, realm: string): URL {
  try {
    return new URL(realm);
  } catch {
    throw new RegistryError(
      "ERR_REGISTRY_PROTOCOL",
      req.registry,
      `token realm "${realm}" is not a URL`,
    );
  }
}

function unauthorizedError(req: AuthRequest, challenges: readonly Challenge[]): RegistryError {
  const offered = challenges.map((c) => c.scheme).join(", ") || "nothing";
  const why =
    req.credential === undefined
      ? "no credentials were found for it (add an imagePullSecret or a docker config entry)"
      : `the registry offers ${offered}, which the credentials cannot answer`;
  return new RegistryError(
    "ERR_REGISTRY_UNAUTHORIZED",
    req.registry,
    `${req.registry} requires authentication: ${why}`,
    {
      status: 401,
    },
  );
}

function basicHeader(credential: Credential): string {
  const pair = `${credential.username ?? ""}:${credential.password ?? ""}`;
  return `Basic ${Buffer.from(pair).toString("base64")}`;
}

function cacheKey(req: AuthRequest): string {
  return `${req.endpoint.origin}|${req.repository}|${credentialId(req.credential)}`;
}
