import { parseScope, type ResourceActions } from "./registry-jwt.ts";

// The token server's accounts: who is asking, and what its tokens may grant.

/**
 * Which repositories an account may act on, per action, as glob patterns (`*` matches any
 * run of characters, slashes included): `{ pull: ["*"], push: ["team/*"] }`.
 */
export interface AccessRules {
  readonly pull?: readonly string[];
  readonly push?: readonly string[];
  readonly delete?: readonly string[];
}

/** An account of the token server: its credentials and what its tokens grant. */
export interface TokenUser extends AccessRules {
  readonly username: string;
  readonly password: string;
}

/**
 * The `access` claim for the requested scopes: each requested action the rules allow, nothing
 * more, one entry per resource. Only `repository` resources are granted (no `registry:catalog:*`).
 */
export function grantedAccess(
  scopes: readonly string[],
  rules: AccessRules,
): readonly ResourceActions[] {
  const granted = new Map<string, { type: string; name: string; actions: string[] }>();
  for (const scope of scopes) {
    const requested = parseScope(scope);
    if (requested?.type !== "repository") continue;
    const key = `${requested.type}:${requested.name}`;
    const entry = granted.get(key) ?? { type: requested.type, name: requested.name, actions: [] };
    for (const action of requested.actions) {
      const allowed = allowedPatterns(rules, action).some((p) => matches(p, requested.name));
      if (allowed && !entry.actions.includes(action)) entry.actions.push(action);
    }
    if (entry.actions.length > 0) granted.set(key, entry);
  }
  return [...granted.values()];
}

function allowedPatterns(rules: AccessRules, action: string): readonly string[] {
  switch (action) {
    case "pull":
      return rules.pull ?? [];
    case "push":
      return rules.push ?? [];
    case "delete":
      return rules.delete ?? [];
    default:
      return [];
  }
}

function matches(pattern: string, name: string): boolean {
  const escaped = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${escaped.join(".*")}$`).test(name);
}

export interface Credentials {
  /** The Authorization header of a GET request. */
  readonly authorization: string | undefined;
  readonly users: readonly TokenUser[];
  /** Refresh tokens issued so far, and their accounts. */
  readonly refreshTokens: ReadonlyMap<string, string>;
}

/**
 * Who is asking: the account ("" when anonymous, undefined when the credentials are wrong),
 * and whether it asked for a refresh token. `grantType` is `basic` for the GET form (Basic
 * credentials or none), `password` or `refresh_token` for the OAuth2 POST form.
 */
export function authenticate(
  grantType: string,
  form: URLSearchParams,
  credentials: Credentials,
): { account: string | undefined; offline: boolean } {
  const { users } = credentials;
  switch (grantType) {
    case "basic": {
      const offline = form.get("offline_token") === "true";
      if (credentials.authorization === undefined) return { account: "", offline };
      const [scheme = "", encoded = ""] = credentials.authorization.split(" ");
      const decoded = Buffer.from(encoded, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      const user = users.find((u) => u.username === decoded.slice(0, colon));
      const valid = scheme.toLowerCase() === "basic" && colon > 0;
      return {
        account: valid && user?.password === decoded.slice(colon + 1) ? user.username : undefined,
        offline,
      };
    }
    case "password": {
      const user = users.find((u) => u.username === form.get("username"));
      return {
        account: user?.password === form.get("password") ? user.username : undefined,
        offline: form.get("access_type") === "offline",
      };
    }
    case "refresh_token": {
      const holder = credentials.refreshTokens.get(form.get("refresh_token") ?? "");
      return { account: users.find((u) => u.username === holder)?.username, offline: false };
    }
    default:
      return { account: undefined, offline: false };
  }
}
