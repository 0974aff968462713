import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { Resolver } from "../../../src/registry/resolver.ts";
import { ref } from "../../helpers/resolver-for.ts";
import { runCli } from "../../helpers/run-cli.ts";
import {
  createCrane,
  createTestCa,
  startRegistry,
  startToxiproxy,
  tempDir,
} from "../../harness/testbed.ts";

// Mirrors, latency and the `digestpin resolve` command, against real registries.

test("latency past the deadline is a timeout in bounded time; within it, an answer", async (t) => {
  const registry = await startRegistry(t, { auth: "none" });
  const crane = await createCrane(t, registry);
  const pushed = await crane.pushRandomImage(registry.ref("app/slow:1"));
  const toxiproxy = await startToxiproxy(t);
  const proxy = await toxiproxy.proxy("registry", registry.host);
  const resolver = new Resolver({
    registries: [{ host: proxy.host, ca: registry.caPem, allowPrivateAddresses: true }],
    cacheTtlMs: 0,
    negativeTtlMs: 0,
  });
  t.teardown(() => resolver.close());
  const image = ref(`${proxy.host}/app/slow:1`);
  await proxy.latency(300);
  t.is((await resolver.resolve(image, { deadline: Date.now() + 5000 })).digest, pushed.digest);
  await proxy.latency(3000);
  const started = Date.now();
  const error = await t.throwsAsync(resolver.resolve(image, { deadline: Date.now() + 1000 }));
  const elapsed = Date.now() - started;
  t.like(error, { code: "ERR_REGISTRY_TIMEOUT" });
  t.true(elapsed < 1500, `gave up after ${elapsed} ms`);
});

test("mirrors are tried in order before the registry, which answers when they cannot", async (t) => {
  const ca = await createTestCa(await tempDir(t, "mirror-ca"));
  const upstream = await startRegistry(t, { auth: "none", ca });
  const mirror = await startRegistry(t, { auth: "none", ca });
  const toUpstream = await createCrane(t, upstream);
  const toMirror = await createCrane(t, mirror);
  const inMirror = await toMirror.pushRandomImage(mirror.ref("app/m:cached"));
  const inUpstream = await toUpstream.pushRandomImage(upstream.ref("app/m:fresh"));
  const toxiproxy = await startToxiproxy(t);
  const proxy = await toxiproxy.proxy("upstream", upstream.host);
  const resolver = new Resolver({
    registries: [
      { host: proxy.host, ca: ca.caPem, allowPrivateAddresses: true, mirrors: [mirror.url] },
    ],
  });
  t.teardown(() => resolver.close());

  const cached = await resolver.resolve(ref(`${proxy.host}/app/m:cached`));
  t.is(cached.digest, inMirror.digest);
  t.is(cached.endpoint, mirror.url);
  const fresh = await resolver.resolve(ref(`${proxy.host}/app/m:fresh`));
  t.is(fresh.digest, inUpstream.digest, "the mirror lacks it: the registry answers");
  t.is(fresh.endpoint, `https://${proxy.host}`);

  await proxy.disable();
  await toMirror.pushRandomImage(mirror.ref("app/m:offline"));
  const offline = await resolver.resolve(ref(`${proxy.host}/app/m:offline`));
  t.is(offline.endpoint, mirror.url, "the registry is cut off: the mirror still answers");
});

test("digestpin resolve prints digests in argument order, as crane does", async (t) => {
  const registry = await startRegistry(t, { auth: "basic" });
  const crane = await createCrane(t, registry);
  const one = await crane.pushRandomImage(registry.ref("cli/one:1"), { mediaType: "oci" });
  const multi = await crane.pushIndex(registry.ref("cli/multi:1"), ["linux/amd64", "linux/arm64"]);
  const dir = await tempDir(t, "cli-docker-config");
  const config = join(dir, "config.json");
  const [user] = registry.users;
  const auth = Buffer.from(`${user!.username}:${user!.password}`).toString("base64");
  await writeFile(config, JSON.stringify({ auths: { [registry.host]: { auth } } }));
  const flags = ["--ca-file", registry.caFile, "--docker-config", config];

  const plain = await runCli([
    "resolve",
    registry.ref("cli/multi:1"),
    registry.ref("cli/one:1"),
    ...flags,
  ]);
  t.is(plain.status, 0, plain.stderr);
  t.deepEqual(plain.lines, [multi.digest, one.digest]);

  const arm = await runCli([
    "resolve",
    registry.ref("cli/multi:1"),
    "--platform",
    "linux/arm64",
    ...flags,
  ]);
  t.deepEqual(arm.lines, [
    await crane.digest(registry.ref("cli/multi:1"), { platform: "linux/arm64" }),
  ]);

  const json = await runCli(["resolve", registry.ref("cli/multi:1"), "--json", ...flags]);
  const described = JSON.parse(json.lines[0]!);
  t.like(described, {
    input: registry.ref("cli/multi:1"),
    canonical: registry.ref("cli/multi:1"),
    digest: multi.digest,
    mediaType: "application/vnd.oci.image.index.v1+json",
  });
  t.is(described.platforms.length, 2);

  const denied = await runCli(
    ["resolve", registry.ref("cli/one:1"), "--ca-file", registry.caFile],
    {
      HOME: dir,
    },
  );
  t.is(denied.status, 1);
  t.regex(
    denied.stderr,
    /^digestpin resolve: .*requires authentication: no credentials were found/,
  );

  const untrusted = await runCli(["resolve", registry.ref("cli/one:1"), "--docker-config", config]);
  t.is(untrusted.status, 1);
  t.regex(
    untrusted.stderr,
    /TLS with .* failed .*; if it uses a private CA, give its certificate with --ca-file FILE\n/,
  );

  const usage = await runCli(["resolve"]);
  t.is(usage.status, 2);
});
