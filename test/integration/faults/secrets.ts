/**
 * What a log must never carry: the secrets a test put in play (passwords, Secret data) as
 * written or base64-encoded, and anything shaped like a credential (a JWT, an Authorization
 * value, a private key, a docker config `auth`). Returns a description of each finding.
 */
export function secretsIn(text: string, secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const secret of secrets) {
    if (secret.length < 6) continue;
    if (text.includes(secret)) found.push(`the secret ${secret.slice(0, 3)}… as written`);
    const encoded = Buffer.from(secret).toString("base64").replace(/=+$/, "");
    if (encoded.length >= 8 && text.includes(encoded.slice(0, -2)))
      found.push(`the secret ${secret.slice(0, 3)}… base64-encoded`);
  }
  const shapes: [string, RegExp][] = [
    ["a JWT", /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/],
    ["a Bearer credential", /Bearer\s+[A-Za-z0-9._~+/-]{8,}/],
    ["a Basic credential", /Basic\s+[A-Za-z0-9+/]{8,}/],
    ["a private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
    ["a docker config auth", /"auth"\s*:\s*"[A-Za-z0-9+/=]{8,}"/],
    ["a password field", /"password"\s*:\s*"(?!\[redacted\])/],
    ["a token field", /"(?:access_|refresh_|identity)?token"\s*:\s*"(?!\[redacted\])/i],
  ];
  for (const [what, pattern] of shapes) {
    const match = pattern.exec(text);
    if (match !== null) found.push(`${what}: ${match[0].slice(0, 24)}…`);
  }
  return found;
}
