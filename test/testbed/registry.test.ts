import test from "ava";
import { createCrane, decodeToken, httpsRequest, startRegistry } from "../harness/testbed.ts";

// Crane pushes to and reads back from the real registry in each of its three auth modes.

test("anonymous registry: crane pushes an image and reads its digest back", async (t) => {
  const registry = await startRegistry(t, { auth: "none" });
  const crane = await createCrane(t, registry);
  const pushed = await crane.pushRandomImage(registry.ref("smoke/anonymous:1.0"));
  t.regex(pushed.digest, /^sha256:[0-9a-f]{64}$/);
  t.is(await crane.digest(registry.ref("smoke/anonymous:1.0")), pushed.digest);
  const probe = await httpsRequest(`${registry.url}/v2/`, { ca: registry.caPem });
  t.is(probe.status, 200);
  const gets = await registry.manifestRequests({ repository: "smoke/anonymous", reference: "1.0" });
  t.true(gets.some((r) => r.method === "GET" || r.method === "HEAD"));
});

test("basic auth registry: the right password pushes and reads, a wrong one is refused", async (t) => {
  const registry = await startRegistry(t, { auth: "basic" });
  const [admin] = registry.users;
  t.is(admin?.username, "admin");
  const crane = await createCrane(t, registry);
  const ref = registry.ref("smoke/basic:1.0");
  const pushed = await crane.pushRandomImage(ref);
  t.is(await crane.digest(ref), pushed.digest);

  const challenge = await httpsRequest(`${registry.url}/v2/`, { ca: registry.caPem });
  t.is(challenge.status, 401);
  t.regex(String(challenge.headers["www-authenticate"]), /^Basic realm=/);

  const wrong = await createCrane(t, registry, { as: { username: "admin", password: "wrong" } });
  await t.throwsAsync(wrong.digest(ref), { message: /401|UNAUTHORIZED/ });
  const anonymous = await createCrane(t, registry, { as: "anonymous" });
  await t.throwsAsync(anonymous.digest(ref), { message: /401|UNAUTHORIZED/ });
});

test("token auth registry: the token server issues scoped tokens that the registry accepts", async (t) => {
  const registry = await startRegistry(t, { auth: "token" });
  const tokens = registry.tokenServer!;
  const challenge = await httpsRequest(`${registry.url}/v2/`, { ca: registry.caPem });
  t.is(challenge.status, 401);
  t.is(
    challenge.headers["www-authenticate"],
    `Bearer realm="${tokens.realm}",service="${tokens.service}"`,
  );

  const ref = registry.ref("smoke/token:1.0");
  const admin = await createCrane(t, registry);
  const pushed = await admin.pushRandomImage(ref);
  t.is(await admin.digest(ref), pushed.digest);
  t.true(tokens.issued() > 0);
  const push = tokens.requests.find((r) => r.scopes.includes("repository:smoke/token:push,pull"));
  t.like(push, { account: "admin", status: 200, service: "digestpin-testbed-registry" });
  t.deepEqual(push?.granted, [
    { type: "repository", name: "smoke/token", actions: ["push", "pull"] },
  ]);

  // reader may pull, not push: its token carries only what it may do.
  const reader = await createCrane(t, registry, { as: registry.users[1]! });
  t.is(await reader.digest(ref), pushed.digest);
  await t.throwsAsync(reader.pushRandomImage(registry.ref("smoke/token:2.0")), {
    message: /UNAUTHORIZED|DENIED|401|403/,
  });
  const readerPush = tokens.requests.findLast((r) => r.account === "reader");
  t.deepEqual(readerPush?.granted, [
    { type: "repository", name: "smoke/token", actions: ["pull"] },
  ]);

  // The default JOSE header carries the signing certificate (x5c), not a key ID.
  const basic = Buffer.from(`${registry.users[0]!.username}:${registry.users[0]!.password}`);
  const query = `service=${tokens.service}&scope=repository:smoke/token:pull`;
  const response = await httpsRequest(`${tokens.realm}?${query}`, {
    ca: registry.caPem,
    headers: { Authorization: `Basic ${basic.toString("base64")}` },
  });
  const body = JSON.parse(response.body) as { token: string; access_token: string };
  t.is(body.token, body.access_token);
  t.like(decodeToken(body.token), { header: { alg: "RS256", typ: "JWT" } });
  t.true("x5c" in (decodeToken(body.token).header as object));
  t.false("kid" in (decodeToken(body.token).header as object));

  const before = tokens.requests.length;
  const wrong = await createCrane(t, registry, { as: { username: "admin", password: "wrong" } });
  await t.throwsAsync(wrong.digest(ref));
  t.true(tokens.requests.slice(before).some((r) => r.status === 401));
  const anonymous = await createCrane(t, registry, { as: "anonymous" });
  await t.throwsAsync(anonymous.digest(ref), { message: /UNAUTHORIZED|401/ });
});

test("token auth: the OAuth2 POST form, refresh tokens, kid-only headers and expiry", async (t) => {
  const registry = await startRegistry(t, { auth: "token", token: { keyHeader: "kid" } });
  const tokens = registry.tokenServer!;
  const admin = registry.users[0]!;
  const crane = await createCrane(t, registry);
  const pushed = await crane.pushRandomImage(registry.ref("smoke/oauth:1.0"));

  const post = async (form: Record<string, string>): Promise<Record<string, unknown>> => {
    const body = new URLSearchParams({
      service: tokens.service,
      scope: "repository:smoke/oauth:pull",
      client_id: "digestpin-test",
      ...form,
    }).toString();
    const headers = { "Content-Type": "application/x-www-form-urlencoded" };
    const response = await httpsRequest(tokens.realm, {
      ca: registry.caPem,
      method: "POST",
      headers,
      body,
    });
    t.is(response.status, 200, response.body);
    return JSON.parse(response.body) as Record<string, unknown>;
  };
  const manifestStatus = async (token: unknown): Promise<number> => {
    const url = `${registry.url}/v2/smoke/oauth/manifests/1.0`;
    const headers = {
      Authorization: `Bearer ${String(token)}`,
      Accept: "application/vnd.oci.image.manifest.v1+json",
    };
    return (await httpsRequest(url, { ca: registry.caPem, method: "HEAD", headers })).status;
  };

  const granted = await post({
    grant_type: "password",
    username: admin.username,
    password: admin.password,
    access_type: "offline",
  });
  t.is(granted.expires_in, 300);
  t.like(decodeToken(String(granted.access_token)), {
    claims: { sub: "admin", aud: tokens.service, iss: tokens.issuer },
  });
  t.true("kid" in (decodeToken(String(granted.access_token)).header as object));
  t.is(await manifestStatus(granted.access_token), 200);

  const refreshed = await post({
    grant_type: "refresh_token",
    refresh_token: String(granted.refresh_token),
  });
  t.is(await manifestStatus(refreshed.access_token), 200);
  t.is(await crane.digest(registry.ref("smoke/oauth:1.0")), pushed.digest);

  // exp lies before the registry's 60 s leeway: the registry refuses the token.
  tokens.settings.lifetime = -120;
  const expired = await post({
    grant_type: "refresh_token",
    refresh_token: String(granted.refresh_token),
  });
  t.is(await manifestStatus(expired.access_token), 401);
});

test("token auth: anonymous pulls where the rules allow, and the request hook injects faults", async (t) => {
  const registry = await startRegistry(t, { auth: "token", anonymous: { pull: ["public/*"] } });
  const tokens = registry.tokenServer!;
  const admin = await createCrane(t, registry);
  const open = await admin.pushRandomImage(registry.ref("public/app:1.0"));
  await admin.pushRandomImage(registry.ref("private/app:1.0"));

  const anonymous = await createCrane(t, registry, { as: "anonymous" });
  t.is(await anonymous.digest(registry.ref("public/app:1.0")), open.digest);
  await t.throwsAsync(anonymous.digest(registry.ref("private/app:1.0")), {
    message: /UNAUTHORIZED|401/,
  });
  t.true(tokens.requests.some((r) => r.account === "" && r.granted.length > 0));

  let seen = 0;
  tokens.settings.onRequest = () => {
    seen++;
    return { status: 403, body: "refused by the test" };
  };
  await t.throwsAsync(admin.digest(registry.ref("public/app:1.0")), { message: /403/ });
  t.true(seen > 0);
  delete tokens.settings.onRequest;
  t.is(await admin.digest(registry.ref("public/app:1.0")), open.digest);
});
