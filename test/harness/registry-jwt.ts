import { createHash, createPublicKey, randomUUID, sign, X509Certificate } from "node:crypto";

/**
 * JSON Web Tokens as the Docker token protocol defines them and distribution v3 verifies them
 * (registry/auth/token/token.go): RS256, claims iss/sub/aud/exp/nbf/iat/jti plus `access`.
 *
 * The registry finds the signing key in the JOSE header in one of two ways, tried in order:
 * - `x5c`: the signing certificate (chain), verified against `auth.token.rootcertbundle`;
 * - `kid`: the RFC 7638 JWK thumbprint (SHA-256, base64url) of a public key of a certificate in
 *   that bundle (distribution v3 dropped the libtrust key IDs of v2).
 */
export type KeyHeader = "x5c" | "kid";

/** One entry of the `access` claim: what the bearer may do to one resource. */
export interface ResourceActions {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

export interface TokenClaims {
  readonly issuer: string;
  readonly subject: string;
  readonly audience: string;
  /** Seconds from now until `exp` (may be negative for an already expired token). */
  readonly lifetime: number;
  readonly access: readonly ResourceActions[];
}

/** A token signing key and its certificate (PEM), as the registry's rootcertbundle holds it. */
export interface TokenSigner {
  readonly certPem: string;
  readonly keyPem: string;
}

export function signToken(signer: TokenSigner, keyHeader: KeyHeader, claims: TokenClaims): string {
  const now = Math.floor(Date.now() / 1000);
  const header =
    keyHeader === "x5c"
      ? {
          typ: "JWT",
          alg: "RS256",
          x5c: [new X509Certificate(signer.certPem).raw.toString("base64")],
        }
      : { typ: "JWT", alg: "RS256", kid: jwkThumbprint(signer.certPem) };
  const payload = {
    iss: claims.issuer,
    sub: claims.subject,
    aud: claims.audience,
    exp: now + claims.lifetime,
    nbf: now - 1,
    iat: now,
    jti: randomUUID(),
    access: claims.access,
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const signature = sign("sha256", Buffer.from(signingInput), signer.keyPem);
  return `${signingInput}.${signature.toString("base64url")}`;
}

/** The key ID distribution v3 derives from a trusted certificate (token.GetJWKThumbprint). */
export function jwkThumbprint(certPem: string): string {
  const jwk = createPublicKey(certPem).export({ format: "jwk" });
  if (jwk.kty !== "RSA" || jwk.e === undefined || jwk.n === undefined) {
    throw new Error(`token signing key must be RSA, not ${String(jwk.kty)}`);
  }
  // RFC 7638: the required members in lexicographic order, no whitespace.
  const canonical = `{"e":"${jwk.e}","kty":"RSA","n":"${jwk.n}"}`;
  return createHash("sha256").update(canonical).digest("base64url");
}

/** The claims of a token, unverified (for tests that inspect what was issued). */
export function decodeToken(token: string): { header: unknown; claims: unknown } {
  const [header = "", payload = ""] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(header, "base64url").toString("utf8")),
    claims: JSON.parse(Buffer.from(payload, "base64url").toString("utf8")),
  };
}

/** Parses a scope (`repository:team/app:pull,push`); names may not hold a colon, types may. */
export function parseScope(scope: string): ResourceActions | undefined {
  const last = scope.lastIndexOf(":");
  const first = scope.lastIndexOf(":", last - 1);
  if (first <= 0 || last === scope.length - 1) return undefined;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope.slice(last + 1).split(","),
  };
}

function base64url(text: string): string {
  return Buffer.from(text).toString("base64url");
}
