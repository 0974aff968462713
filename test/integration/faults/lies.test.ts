import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import test, { type ExecutionContext } from "ava";
import {
  startScriptedRegistry,
  type Handler,
  type ScriptedRegistry,
} from "../../harness/scripted-registry.ts";
import { assertRow, runRow, type RowFault, type RowImages } from "./matrix.ts";

// Registry faults matrix, HTTP rows: a scripted registry impostor answering every request with
// the fault (test/harness/scripted-registry.ts), for what a real registry will not do on demand.
// test/integration/registry/hostile.test.ts checks the resolver's error for each of these; here
// the same faults go through the admission handler and the policy.

const OCI = "application/vnd.oci.image.manifest.v1+json";
const manifestOf = (seed: string) =>
  Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI,
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: `sha256:${createHash("sha256").update(seed).digest("hex")}`,
        size: seed.length,
      },
      layers: [],
    }),
  );
const digestOf = (body: Buffer) => `sha256:${createHash("sha256").update(body).digest("hex")}`;
const current = manifestOf("current");
const older = manifestOf("older");
const other = manifestOf("other");

/** Serves `body` for every manifest, honestly (HEAD: headers only). */
const honestly =
  (body: Buffer, headers: Record<string, string | number> = {}) =>
  (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, {
      "content-type": OCI,
      "docker-content-digest": digestOf(body),
      "content-length": body.length,
      ...headers,
    });
    res.end(req.method === "HEAD" ? undefined : body);
  };

/** HEAD without a digest header, so the resolver must GET the body; the GET is `get`. */
const bodyNeeded =
  (get: Handler): Handler =>
  (req, res) => {
    if (req.method === "HEAD") res.writeHead(200, { "content-type": OCI }).end();
    else get(req, res);
  };

interface Lie {
  readonly subject: string;
  readonly fault: RowFault;
  readonly handler: (registry: ScriptedRegistry) => Handler;
  /** No CA for the registry in the policy (the TLS row). */
  readonly untrusted?: boolean;
  /** Checks on what the impostor saw. */
  readonly check?: (registry: ScriptedRegistry, t: ExecutionContext) => unknown;
}

const lies: Lie[] = [
  {
    subject: "none (the scripted registry answers honestly; one tag moved)",
    fault: { kind: "honest" },
    // Every tag serves `current`; the drifted tag's pin is `older`.
    handler: () => honestly(current),
  },
  {
    subject: "429 storm with Retry-After: 1 (every request)",
    fault: { kind: "unavailable", code: "ERR_REGISTRY_RATE_LIMITED" },
    handler: () => (_req, res) => res.writeHead(429, { "retry-after": "1" }).end(),
    // Retry-After is honoured within the budget (a retry a second), never past it.
    check: (registry, t) =>
      t.true(registry.requests.length <= 12, `${registry.requests.length} requests`),
  },
  {
    subject: "500 on every request",
    fault: { kind: "unavailable", code: "ERR_REGISTRY_SERVER" },
    handler: () => (_req, res) => res.writeHead(500).end(),
    check: (registry, t) => t.is(registry.requests.length, 3, "a 500 is not retried"),
  },
  {
    subject: "503 on every request",
    fault: { kind: "unavailable", code: "ERR_REGISTRY_SERVER" },
    handler: () => (_req, res) => res.writeHead(503).end(),
    check: (registry, t) =>
      t.true(
        registry.requests.length <= 12,
        `${registry.requests.length} requests: at most 4 attempts per tag`,
      ),
  },
  {
    subject: "truncated manifest bodies (connection dropped after 20 bytes)",
    fault: { kind: "unavailable", code: "ERR_REGISTRY_UNREACHABLE" },
    handler: () =>
      bodyNeeded((_req, res) => {
        res.writeHead(200, { "content-type": OCI, "content-length": current.length });
        res.write(current.subarray(0, 20));
        res.socket?.destroy();
      }),
  },
  {
    subject: "wrong Docker-Content-Digest (the body hashes to another digest)",
    fault: { kind: "error", code: "ERR_DIGEST_MISMATCH" },
    handler: () => bodyNeeded(honestly(current, { "docker-content-digest": digestOf(other) })),
  },
  {
    subject: "a registry naming a digest its tags do not have (HEAD lies consistently)",
    fault: { kind: "names", digest: digestOf(other) },
    handler: () => honestly(current, { "docker-content-digest": digestOf(other) }),
  },
  {
    subject: "manifest over the 4 MiB cap (declared Content-Length 5 MiB)",
    fault: { kind: "error", code: "ERR_MANIFEST_TOO_LARGE" },
    handler: () =>
      bodyNeeded((_req, res) =>
        res.writeHead(200, { "content-type": OCI, "content-length": 5 << 20 }).end(),
      ),
  },
  {
    subject: "endless manifest body (no Content-Length, never ends)",
    fault: { kind: "error", code: "ERR_MANIFEST_TOO_LARGE" },
    handler: () =>
      bodyNeeded((_req, res) => {
        res.writeHead(200, { "content-type": OCI });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = () => {
          while (res.write(chunk));
          res.once("drain", pump);
        };
        res.on("close", () => res.removeAllListeners("drain"));
        pump();
      }),
  },
  {
    subject: "redirect to the cloud metadata address 169.254.169.254",
    fault: { kind: "error", code: "ERR_REGISTRY_REDIRECT" },
    handler: () => (_req, res) =>
      res.writeHead(307, { location: "http://169.254.169.254/latest/meta-data/iam/" }).end(),
    check: (registry, t) => t.is(registry.requests.length, 3, "one request per tag, not followed"),
  },
  {
    subject: "an HTML login page instead of a manifest",
    fault: { kind: "error", code: "ERR_REGISTRY_PROTOCOL" },
    handler: () => (req, res) =>
      res
        .writeHead(200, { "content-type": "text/html" })
        .end(req.method === "HEAD" ? undefined : "<html>login</html>"),
  },
  {
    subject: "TLS with a CA the policy does not trust",
    fault: { kind: "error", code: "ERR_REGISTRY_TLS" },
    handler: () => honestly(current),
    untrusted: true,
    check: (registry, t) => t.is(registry.requests.length, 0, "no request got through"),
  },
];

// Not one of these is about time: a 4 s budget (what --timeout-seconds 6 gives) keeps a busy
// machine from turning a fault into a timeout. The network rows test the budget itself.
const BUDGET_MS = 4000;

for (const lie of lies) {
  test.serial(`registry fault: ${lie.subject}`, async (t) => {
    const registry = await startScriptedRegistry(t);
    registry.handle(lie.handler(registry));
    const images: RowImages = {
      pinned: { image: `${registry.host}/app/pinned:1`, pin: digestOf(current) },
      drifted: {
        image: `${registry.host}/app/drifted:1`,
        pin: digestOf(older),
        served: digestOf(current),
      },
      unpinned: { image: `${registry.host}/app/unpinned:1`, served: digestOf(current) },
    };
    const registries = [
      {
        host: registry.host,
        allowPrivateAddresses: true,
        ...(lie.untrusted !== true && { ca: registry.ca.caPem }),
      },
    ];
    const options = { registries, images, fault: lie.fault, budgetMs: BUDGET_MS };
    const result = await runRow(options);
    assertRow(t, import.meta.url, lie.subject, options, result);
    await lie.check?.(registry, t);
  });
}

test.serial(
  "registry fault: token realm on another host — refused, never contacted, no credentials sent",
  async (t) => {
    const registry = await startScriptedRegistry(t);
    const realm = await startScriptedRegistry(t, registry.ca);
    const realmUrl = `https://${realm.host.replace("127.0.0.1", "localhost")}/token`;
    registry.handle((_req, res) =>
      res
        .writeHead(401, { "www-authenticate": `Bearer realm="${realmUrl}",service="registry"` })
        .end(),
    );
    realm.handle((_req, res) =>
      res.writeHead(200, { "content-type": "application/json" }).end('{"token":"stolen"}'),
    );
    const images: RowImages = {
      pinned: { image: `${registry.host}/app/pinned:1`, pin: digestOf(current) },
      drifted: {
        image: `${registry.host}/app/drifted:1`,
        pin: digestOf(older),
        served: digestOf(current),
      },
      unpinned: { image: `${registry.host}/app/unpinned:1`, served: digestOf(current) },
    };
    const options = {
      registries: [{ host: registry.host, ca: registry.ca.caPem, allowPrivateAddresses: true }],
      images,
      fault: { kind: "error", code: "ERR_REGISTRY_NOT_ALLOWED" } as const,
      budgetMs: BUDGET_MS,
      keychain: () => ({ username: "ci", password: "realm-test-password-5b1f" }),
    };
    const result = await runRow(options);
    assertRow(
      t,
      import.meta.url,
      "token realm on another host (credentials configured)",
      options,
      result,
    );
    t.is(realm.requests.length, 0, "the foreign realm is never contacted");
    t.true(
      registry.requests.every((r) => r.authorization === undefined),
      "no credentials to the registry either",
    );
    t.false(result.logs.includes("realm-test-password-5b1f"));
  },
);
