import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import test from "ava";
import { keychainFrom, parseDockerConfig } from "../../../src/registry/credentials.ts";
import { Resolver } from "../../../src/registry/resolver.ts";
import { ref } from "../../helpers/resolver-for.ts";
import { startScriptedRegistry, type ScriptedRegistry } from "../../harness/scripted-registry.ts";
import type { Teardown } from "../../harness/testbed.ts";

// A registry we do not control may lie, stall or point elsewhere: each lie is refused with the
// error an operator can act on, in bounded time.

const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: `sha256:${"a".repeat(64)}`,
      size: 2,
    },
    layers: [],
  }),
);
const digest = `sha256:${createHash("sha256").update(manifest).digest("hex")}`;
const otherDigest = `sha256:${"b".repeat(64)}`;
const OCI = "application/vnd.oci.image.manifest.v1+json";

async function setup(
  t: Teardown & { teardown: (fn: () => Promise<void> | void) => void },
  options = {},
) {
  const registry = await startScriptedRegistry(t);
  const resolver = new Resolver({
    registries: [{ host: registry.host, ca: registry.ca.caPem, allowPrivateAddresses: true }],
    ...options,
  });
  t.teardown(() => resolver.close());
  return { registry, resolver, image: ref(`${registry.host}/app:1`) };
}

const serveManifest = (registry: ScriptedRegistry, headers: Record<string, string> = {}) => {
  registry.handle((req, res) => {
    res.writeHead(200, {
      "content-type": OCI,
      "docker-content-digest": digest,
      "content-length": manifest.length,
      ...headers,
    });
    res.end(req.method === "HEAD" ? undefined : manifest);
  });
};

test("an honest scripted registry resolves (the baseline for the lies below)", async (t) => {
  const { registry, resolver, image } = await setup(t);
  serveManifest(registry);
  t.is((await resolver.resolve(image)).digest, digest);
  t.deepEqual(
    registry.requests.map((r) => r.method),
    ["HEAD"],
  );
});

test("a Docker-Content-Digest that does not match the body is refused", async (t) => {
  const { registry, resolver, image } = await setup(t);
  serveManifest(registry, { "docker-content-digest": otherDigest });
  const error = await t.throwsAsync(resolver.resolve(image, { verify: true }));
  t.like(error, { code: "ERR_DIGEST_MISMATCH" });
  t.regex(
    error.message,
    new RegExp(`hashes to ${digest} but Docker-Content-Digest says ${otherDigest}`),
  );
});

test("a body that does not hash to the requested digest is refused", async (t) => {
  const { registry, resolver } = await setup(t);
  registry.handle((_req, res) => res.writeHead(200, { "content-type": OCI }).end(manifest));
  const error = await t.throwsAsync(resolver.resolve(ref(`${registry.host}/app@${otherDigest}`)));
  t.like(error, { code: "ERR_DIGEST_MISMATCH" });
});

test("without a digest header, or when HEAD is not allowed, the body is fetched and hashed", async (t) => {
  const { registry, resolver, image } = await setup(t);
  registry.handle((req, res) => {
    if (req.method === "HEAD") res.writeHead(405).end();
    else res.writeHead(200, { "content-type": OCI }).end(manifest);
  });
  t.is((await resolver.resolve(image)).digest, digest);
  t.deepEqual(
    registry.requests.map((r) => r.method),
    ["HEAD", "GET"],
  );
});

test("a manifest over the size cap is refused, declared or not", async (t) => {
  const { registry, resolver, image } = await setup(t, { maxManifestBytes: 1024 * 1024 });
  registry.handle((_req, res) =>
    res.writeHead(200, { "content-type": OCI, "content-length": 5 << 20 }).end(),
  );
  await t.throwsAsync(resolver.resolve(image, { verify: true }), {
    code: "ERR_MANIFEST_TOO_LARGE",
  } as never);
  const other = await setup(t, { maxManifestBytes: 1024 * 1024 });
  other.registry.handle((_req, res) => {
    res.writeHead(200, { "content-type": OCI });
    res.end(Buffer.alloc(2 << 20, 0x20));
  });
  const error = await t.throwsAsync(other.resolver.resolve(other.image, { verify: true }));
  t.like(error, { code: "ERR_MANIFEST_TOO_LARGE" });
});

test("an endless body is cut off at the cap, quickly", async (t) => {
  const { registry, resolver, image } = await setup(t);
  registry.handle((req, res) => {
    res.writeHead(200, { "content-type": OCI });
    // A HEAD response has no body: writes to it vanish and would spin forever.
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = () => {
      while (res.write(chunk));
      res.once("drain", pump);
    };
    res.on("close", () => res.removeAllListeners("drain"));
    pump();
  });
  const started = Date.now();
  const error = await t.throwsAsync(resolver.resolve(image, { verify: true }));
  t.like(error, { code: "ERR_MANIFEST_TOO_LARGE" });
  t.true(Date.now() - started < 5000);
});

test("a redirect to the cloud metadata address is not followed", async (t) => {
  const { registry, resolver, image } = await setup(t);
  registry.handle((_req, res) =>
    res.writeHead(307, { location: "http://169.254.169.254/latest/meta-data/" }).end(),
  );
  const error = await t.throwsAsync(resolver.resolve(image));
  t.like(error, { code: "ERR_REGISTRY_REDIRECT" });
  t.regex(error.message, /169\.254\.169\.254/);
});

test("a same-host redirect is followed", async (t) => {
  const { registry, resolver, image } = await setup(t);
  registry.handle((req, res) => {
    if (req.url?.startsWith("/v2/app/manifests/1"))
      res.writeHead(307, { location: "/elsewhere" }).end();
    else serveManifestOnce(req, res);
  });
  t.is((await resolver.resolve(image)).digest, digest);
});

function serveManifestOnce(req: IncomingMessage, res: ServerResponse) {
  res
    .writeHead(200, { "content-type": OCI, "docker-content-digest": digest })
    .end(req.method === "HEAD" ? undefined : manifest);
}

for (const [name, realm] of [
  ["another host", "https://evil.example.com/token"],
  ["plain http", "http://REGISTRY/token"],
  ["the metadata address", "https://169.254.169.254/token"],
] as const) {
  test(`a token realm on ${name} is refused and never contacted`, async (t) => {
    const { registry, resolver, image } = await setup(t);
    registry.handle((_req, res) =>
      res
        .writeHead(401, {
          "www-authenticate": `Bearer realm="${realm.replace("REGISTRY", registry.host)}",service="x"`,
        })
        .end(),
    );
    const error = await t.throwsAsync(resolver.resolve(image));
    t.like(error, { code: "ERR_REGISTRY_NOT_ALLOWED" });
    t.regex(error.message, /refusing token realm/);
    t.is(registry.requests.length, 1);
  });
}

test("a token the registry keeps refusing (expired or invalid) ends as unauthorized", async (t) => {
  const { registry, resolver, image } = await setup(t);
  registry.handle((req, res) => {
    if (req.url?.startsWith("/token")) {
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ token: "expired", expires_in: 300 }));
    } else {
      res
        .writeHead(401, {
          "www-authenticate": `Bearer realm="https://${registry.host}/token",service="s"`,
        })
        .end();
    }
  });
  const error = await t.throwsAsync(resolver.resolve(image));
  t.like(error, { code: "ERR_REGISTRY_UNAUTHORIZED" });
  t.deepEqual(
    registry.requests.map((r) => [r.method, r.authorization ?? ""]),
    [
      ["HEAD", ""],
      ["GET", ""],
      ["HEAD", "Bearer expired"],
    ],
  );
});

test("429 with Retry-After is waited out within the deadline, and not past it", async (t) => {
  const { registry, resolver, image } = await setup(t);
  let calls = 0;
  registry.handle((req, res) => {
    if (++calls === 1) res.writeHead(429, { "retry-after": "1" }).end();
    else serveManifestOnce(req, res);
  });
  const started = Date.now();
  t.is((await resolver.resolve(image, { deadline: Date.now() + 5000 })).digest, digest);
  t.true(Date.now() - started >= 950);

  const slow = await setup(t);
  slow.registry.handle((_req, res) => res.writeHead(429, { "retry-after": "60" }).end());
  const begun = Date.now();
  const error = await t.throwsAsync(
    slow.resolver.resolve(slow.image, { deadline: Date.now() + 2000 }),
  );
  t.like(error, { code: "ERR_REGISTRY_RATE_LIMITED" });
  t.true(Date.now() - begun < 1000, "gives up at once instead of waiting past the deadline");
  t.is(slow.registry.requests.length, 1);
});

test("502/503 are retried, 500 is not", async (t) => {
  const { registry, resolver, image } = await setup(t);
  let calls = 0;
  registry.handle((req, res) => {
    if (++calls <= 2) res.writeHead(calls === 1 ? 502 : 503).end();
    else serveManifestOnce(req, res);
  });
  t.is((await resolver.resolve(image)).digest, digest);
  t.is(registry.requests.length, 3);

  const broken = await setup(t);
  broken.registry.handle((_req, res) => res.writeHead(500).end());
  const error = await t.throwsAsync(broken.resolver.resolve(broken.image));
  t.like(error, { code: "ERR_REGISTRY_SERVER", unavailable: true });
  t.is(broken.registry.requests.length, 1);
});

test("a registry that never answers times out at the deadline", async (t) => {
  const { registry, resolver, image } = await setup(t);
  registry.handle(() => undefined);
  const started = Date.now();
  const error = await t.throwsAsync(resolver.resolve(image, { deadline: Date.now() + 500 }));
  t.like(error, { code: "ERR_REGISTRY_TIMEOUT", unavailable: true });
  const elapsed = Date.now() - started;
  t.true(elapsed >= 450 && elapsed < 1500, `${elapsed} ms`);
});

test("a truncated body is a transport failure, not a manifest", async (t) => {
  const { registry, resolver, image } = await setup(t);
  registry.handle((_req, res) => {
    res.writeHead(200, { "content-type": OCI, "content-length": manifest.length });
    res.write(manifest.subarray(0, 20));
    res.socket?.destroy();
  });
  const error = await t.throwsAsync(resolver.resolve(image, { verify: true }));
  t.like(error, { code: "ERR_REGISTRY_UNREACHABLE" });
});

test("something that is not a manifest is an unsupported media type", async (t) => {
  const { registry, resolver, image } = await setup(t);
  registry.handle((_req, res) =>
    res.writeHead(200, { "content-type": "text/html" }).end("<html>login</html>"),
  );
  const error = await t.throwsAsync(resolver.resolve(image));
  t.like(error, { code: "ERR_REGISTRY_PROTOCOL" });
  registry.handle((_req, res) =>
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ mediaType: "application/vnd.docker.distribution.manifest.v1+json" })),
  );
  const v1 = await t.throwsAsync(
    new Resolver({
      registries: [{ host: registry.host, ca: registry.ca.caPem, allowPrivateAddresses: true }],
    }).resolve(image),
  );
  t.like(v1, { code: "ERR_UNSUPPORTED_MEDIA_TYPE" });
});

test("TLS with a CA the policy does not trust fails as a TLS error", async (t) => {
  const registry = await startScriptedRegistry(t);
  serveManifest(registry);
  const resolver = new Resolver({
    registries: [{ host: registry.host, allowPrivateAddresses: true }],
  });
  t.teardown(() => resolver.close());
  const error = await t.throwsAsync(resolver.resolve(ref(`${registry.host}/app:1`)));
  t.like(error, { code: "ERR_REGISTRY_TLS" });
  t.regex(error.message, /"ca"/);
});

// The one request loop's origin rule (src/registry/authorized-request.ts): credentials, and the
// answer to a 401 challenge, go only to the endpoint's own origin. A redirect may keep the host
// and change the port — another origin, maybe another tenant's server — and its challenge is
// then an error, never a prompt to send the registry's credentials to the realm it names.
test("a 401 from another origin after a redirect is not answered, and no credentials go there", async (t) => {
  const { registry, resolver, image } = await setup(t);
  const elsewhere = await startScriptedRegistry(t, registry.ca);
  registry.handle((req, res) => {
    res.writeHead(302, { location: `${elsewhere.url}${req.url ?? ""}` }).end();
  });
  elsewhere.handle((req, res) => {
    if (req.url?.startsWith("/token") === true) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ token: "stolen", expires_in: 300 }));
      return;
    }
    res
      .writeHead(401, {
        "www-authenticate": `Bearer realm="${elsewhere.url}/token",service="elsewhere"`,
      })
      .end();
  });
  const keychain = keychainFrom([
    parseDockerConfig(
      JSON.stringify({
        auths: { [registry.host]: { auth: Buffer.from("alice:secret").toString("base64") } },
      }),
      "config.json",
    ),
  ]);
  const error = await t.throwsAsync(resolver.resolve(image, { keychain }));
  t.like(error, { code: "ERR_REGISTRY_UNAUTHORIZED" });
  t.true(elsewhere.requests.length > 0, "the redirect was followed");
  t.deepEqual(
    elsewhere.requests.filter((r) => r.url.startsWith("/token")),
    [],
    "the other origin's challenge was not answered",
  );
  t.deepEqual(
    elsewhere.requests.map((r) => r.authorization),
    elsewhere.requests.map(() => undefined),
    "no credentials went to the other origin",
  );
});
