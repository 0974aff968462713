import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import test, { type ExecutionContext } from "ava";
import { readLayer } from "../../../src/layers/read-layer.ts";
import { RegistryReader } from "../../../src/registry/registry-reader.ts";
import { layerTar } from "../../harness/layer-tar.ts";
import { startScriptedRegistry } from "../../harness/scripted-registry.ts";

// Layer blobs from a registry that lies: every byte is hashed as it streams, and nothing read
// from a blob counts until its digest checked out.

const blob = gzipSync(layerTar([{ path: "etc/motd", content: "hello\n" }]));
const digest = `sha256:${createHash("sha256").update(blob).digest("hex")}`;

async function setup(t: ExecutionContext, body: Buffer, headers: Record<string, string> = {}) {
  const registry = await startScriptedRegistry(t);
  registry.handle((_req, res) => {
    res.writeHead(200, { "content-type": "application/octet-stream", ...headers });
    res.end(body);
  });
  const reader = new RegistryReader({
    registries: [{ host: registry.host, ca: registry.ca.caPem, allowPrivateAddresses: true }],
  });
  t.teardown(() => reader.close());
  const name = { registry: registry.host, repository: "team/app" };
  const read = (size = blob.length) => {
    const paths: string[] = [];
    const done = readLayer(
      (layer) => reader.openBlob(name, layer.digest, { size: layer.size }),
      { digest, size },
      (entry) => paths.push(entry.path),
    );
    return { paths, done };
  };
  return { registry, read };
}

test("an honest blob streams into its entries", async (t) => {
  const { registry, read } = await setup(t, blob);
  const { paths, done } = read();
  t.like(await done, { compression: "gzip", entries: 1 });
  t.deepEqual(paths, ["etc/motd"]);
  t.regex(registry.requests[0]?.url ?? "", new RegExp(`/v2/team/app/blobs/${digest}$`));
});

test("a valid layer that is not the digest asked for fails after the last byte", async (t) => {
  const other = gzipSync(layerTar([{ path: "etc/motd", content: "HELLO\n" }]));
  const { read } = await setup(t, other);
  await t.throwsAsync(read(other.length).done, {
    code: "ERR_DIGEST_MISMATCH",
    message: new RegExp(
      `digest mismatch for .*@${digest}: the ${other.length} bytes served hash to sha256:`,
    ),
  });
});

test("more bytes than the manifest says are refused, declared or not", async (t) => {
  const padded = Buffer.concat([blob, Buffer.alloc(100_000)]);
  const declared = await setup(t, padded);
  await t.throwsAsync(declared.read().done, {
    message: /is larger than the \d+ bytes its manifest says/,
  });
  const chunked = await setup(t, padded, { "transfer-encoding": "chunked" });
  await t.throwsAsync(chunked.read().done, {
    message: /is larger than the \d+ bytes its manifest says/,
  });
});
