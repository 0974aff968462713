import { readFile } from "node:fs/promises";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { createCrane, startRegistry, tempDir } from "../harness/testbed.ts";

// Images of every kind digestpin meets, pushed by crane and checked against what the registry
// serves. Each test starts its own registry (a few hundred milliseconds).

const setup = async (t: ExecutionContext) => {
  const registry = await startRegistry(t, { auth: "none" });
  return { registry, crane: await createCrane(t, registry) };
};

test("single-platform images keep their OCI or Docker v2 media type", async (t) => {
  const { registry, crane } = await setup(t);
  const oci = await crane.pushRandomImage(registry.ref("images/oci:1.0"), { layers: 2 });
  const docker = await crane.pushRandomImage(registry.ref("images/docker:1.0"), {
    mediaType: "docker",
    platform: "linux/arm64",
  });
  const ociManifest = await crane.manifest(registry.ref("images/oci:1.0"));
  t.is(ociManifest.mediaType, "application/vnd.oci.image.manifest.v1+json");
  t.is(oci.mediaType, ociManifest.mediaType);
  t.is((ociManifest.json.layers as unknown[]).length, 2);
  const dockerManifest = await crane.manifest(registry.ref("images/docker:1.0"));
  t.is(dockerManifest.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
  t.is(await crane.digest(registry.ref("images/docker:1.0")), docker.digest);
  const config = JSON.parse(await crane.run(["config", registry.ref("images/docker:1.0")]));
  t.like(config, { os: "linux", architecture: "arm64" });
  // The scratch tag used while building is gone: only the requested tag remains.
  t.is((await crane.run(["ls", registry.ref("images/oci")])).trim(), "1.0");
});

for (const mediaType of ["oci", "docker"] as const) {
  test(`a multi-platform ${mediaType} index names each platform's image`, async (t) => {
    const { registry, crane } = await setup(t);
    const ref = registry.ref(`images/index-${mediaType}:1.0`);
    const platforms = ["linux/amd64", "linux/arm64", "linux/arm/v7"];
    const pushed = await crane.pushIndex(ref, platforms, { mediaType });
    const manifest = await crane.manifest(ref);
    t.is(manifest.mediaType, pushed.mediaType);
    t.is(
      manifest.mediaType,
      mediaType === "oci"
        ? "application/vnd.oci.image.index.v1+json"
        : "application/vnd.docker.distribution.manifest.list.v2+json",
    );
    const children = manifest.json.manifests as { digest: string; platform: object }[];
    t.deepEqual(
      children.map((c) => c.digest),
      pushed.manifests.map((m) => m.digest),
    );
    t.like(children[2]?.platform, { os: "linux", architecture: "arm", variant: "v7" });
    t.is(await crane.digest(ref), pushed.digest);
    for (const { platform, digest } of pushed.manifests) {
      t.is(await crane.digest(ref, { platform }), digest);
    }
  });
}

test("re-pushing a tag moves it to a new digest of the same kind", async (t) => {
  const { registry, crane } = await setup(t);
  const image = registry.ref("images/moving:1.0");
  const first = await crane.pushRandomImage(image, { mediaType: "docker", layers: 3 });
  const second = await crane.repush(image);
  t.not(second.digest, first.digest);
  t.is(second.mediaType, first.mediaType);
  t.is(await crane.digest(image), second.digest);
  t.is(((await crane.manifest(image)).json.layers as unknown[]).length, 3);
  // The old content stays reachable by digest: only the tag moved.
  t.is(await crane.digest(`${registry.ref("images/moving")}@${first.digest}`), first.digest);

  const index = registry.ref("images/moving-index:1.0");
  const before = await crane.pushIndex(index, ["linux/amd64", "linux/arm64"]);
  const after = await crane.repush(index);
  t.not(after.digest, before.digest);
  t.deepEqual(
    after.manifests.map((m) => m.platform),
    ["linux/amd64", "linux/arm64"],
  );
  t.is(await crane.digest(index), after.digest);
});

test("an image built from chosen files holds exactly them, and the same files give the same digest", async (t) => {
  const { registry, crane } = await setup(t);
  const files = { "etc/motd": "hello from digestpin\n", "app/run.sh": "#!/bin/sh\necho ok\n" };
  const a = await crane.pushFiles(registry.ref("images/files:a"), files);
  const b = await crane.pushFiles(registry.ref("images/files:b"), files);
  t.is(a.digest, b.digest);
  const c = await crane.pushFiles(registry.ref("images/files:c"), {
    ...files,
    "etc/motd": "bye\n",
  });
  t.not(c.digest, a.digest);

  const dir = await tempDir(t, "export");
  const exported = join(dir, "fs.tar");
  await crane.run(["export", registry.ref("images/files:a"), exported]);
  const tar = await readFile(exported, "latin1");
  t.true(tar.includes("etc/motd"));
  t.true(tar.includes("hello from digestpin\n"));
  t.true(tar.includes("#!/bin/sh\necho ok\n"));
});
