import { createHash, randomBytes } from "node:crypto";
import test, { type ExecutionContext } from "ava";
import type { LayerEntry } from "../../harness/layer-tar.ts";
import { pushLayered, pushLayeredIndex } from "../../harness/layered-images.ts";
import { blobReads, digestpin, fileLines, policyFile, reviewTestbed } from "./testbed.ts";

// `digestpin diff --files` against a real registry, with images crane builds from layers the
// tests write: what a re-pushed tag changed, file by file.

const testbed = reviewTestbed(test);

interface Change {
  readonly path: string;
  readonly differences: string[];
  readonly layer: { readonly side: string; readonly index: number };
}

const harmless: LayerEntry[] = [
  { path: "bin", type: "dir" },
  { path: "bin/busybox", content: "busybox binary", mode: 0o755 },
  { path: "bin/sh", type: "symlink", target: "busybox" },
  { path: "etc", type: "dir" },
  { path: "etc/motd", content: "welcome\n" },
  { path: "etc/conf.d", type: "dir" },
  { path: "etc/conf.d/a.conf", content: "a" },
  { path: "etc/conf.d/b.conf", content: "b" },
  { path: "harmless", content: "" },
];

/** Pins `ref` to a new image of `layers`, then re-pushes the tag with `moved` on top of it. */
async function movedTag(
  t: ExecutionContext,
  name: string,
  moved: LayerEntry[],
  compression?: "gzip" | "zstd",
) {
  const bed = testbed();
  const ref = bed.registry.ref(name);
  const pinned = await pushLayered(t, bed.crane, ref, {
    layers: [harmless],
    ...(compression !== undefined && { compression }),
  });
  const policy = await policyFile(bed, { [ref]: pinned });
  const current = await pushLayered(t, bed.crane, ref, {
    base: `${ref}@${pinned}`,
    layers: [moved],
    ...(compression !== undefined && { compression }),
  });
  return { bed, ref, policy, pinned, current };
}

test("the attack: harmless:1.0 re-pushed with one file added shows exactly + /harmful", async (t) => {
  const { bed, ref, policy } = await movedTag(t, "martes13/harmless:1.0", [
    { path: "harmful", content: "" },
  ]);
  const run = await digestpin(bed, policy, ["diff", ref, "--files"]);
  t.is(run.status, 1, run.stderr);
  t.deepEqual(fileLines(run.stdout), ["  + /harmful  file 0644 0:0 0 B  (current layer 2/2)"]);
  t.regex(run.stdout, /\n {2}layering {2}the pinned image's 1 layer with 1 layer added on top\n/);
  t.regex(run.stdout, /files of linux\/amd64: 1 added, 0 removed, 0 changed \(read 2 layers/);
  // Progress went to stderr, one line per layer read.
  t.regex(
    run.stderr,
    /linux\/amd64 current layer 2\/2 sha256:[0-9a-f]{12} {2}\d+ B \/ \d+ B, 1 entry \(gzip\)/,
  );
});

test("--shared skip never downloads the shared layer and marks what depends on it", async (t) => {
  const { bed, ref, policy } = await movedTag(t, "team/skip:1", [
    { path: "harmful", content: "x" },
  ]);
  const manifest = await bed.crane.manifest(ref);
  const [shared, added] = (manifest.json.layers as { digest: string }[]).map((l) => l.digest);
  const before = (await blobReads(bed, "team/skip")).length;
  const run = await digestpin(bed, policy, ["diff", ref, "--files", "--shared", "skip"]);
  t.is(run.status, 1, run.stderr);
  t.deepEqual(fileLines(run.stdout), [
    "  ? /harmful  file 0644 0:0 1 B written by current layer 2/2; the shared layers were not read to tell what it was before",
  ]);
  const reads = (await blobReads(bed, "team/skip")).slice(before);
  t.true(reads.includes(added!), "the added layer is read");
  t.false(reads.includes(shared!), "the shared layer is not");
});

test("a file removed through a whiteout, a directory through an opaque marker", async (t) => {
  const { bed, ref, policy } = await movedTag(t, "team/deleted:1", [
    { type: "whiteout", path: "etc/motd" },
    { path: "etc/conf.d", type: "dir" },
    { type: "opaque", path: "etc/conf.d" },
    { path: "etc/conf.d/evil.conf", content: "evil" },
  ]);
  const run = await digestpin(bed, policy, ["diff", ref, "--files"]);
  t.is(run.status, 1, run.stderr);
  t.deepEqual(fileLines(run.stdout), [
    "  - /etc/conf.d/a.conf  file 0644 0:0 1 B  (current layer 2/2)",
    "  - /etc/conf.d/b.conf  file 0644 0:0 1 B  (current layer 2/2)",
    "  + /etc/conf.d/evil.conf  file 0644 0:0 4 B  (current layer 2/2)",
    "  - /etc/motd  file 0644 0:0 8 B  (current layer 2/2)",
  ]);
});

test("a changed mode (setuid), a symlink retargeted and same-size content, zstd layers", async (t) => {
  const { bed, ref, policy } = await movedTag(
    t,
    "team/changed:1",
    [
      { path: "bin/busybox", content: "BUSYBOX BINARY", mode: 0o4755 },
      { path: "bin/sh", type: "symlink", target: "/tmp/evil" },
      { path: "etc/motd", content: "welcome\n", uid: 1000, gid: 1000 },
    ],
    "zstd",
  );
  const run = await digestpin(bed, policy, ["diff", ref, "--files"]);
  t.is(run.status, 1, run.stderr);
  const short = (text: string) =>
    `sha256:${createHash("sha256").update(text).digest("hex").slice(0, 12)}…`;
  t.deepEqual(fileLines(run.stdout), [
    `  ~ /bin/busybox  content ${short("busybox binary")} → ${short("BUSYBOX BINARY")} (same size); mode 0755 → 4755  (current layer 2/2)`,
    "  ~ /bin/sh  target busybox → /tmp/evil  (current layer 2/2)",
    "  ~ /etc/motd  owner 0:0 → 1000:1000  (current layer 2/2)",
  ]);
  t.regex(run.stderr, /\(zstd\)/);
  const json = JSON.parse(
    (await digestpin(bed, policy, ["diff", ref, "--files", "--json"])).stdout,
  );
  const [platform] = json.platforms;
  t.deepEqual(platform.files.counts, { added: 0, removed: 0, changed: 3, unknown: 0 });
  t.deepEqual(
    (platform.files.changes as Change[]).map((c) => [
      c.path,
      c.differences,
      c.layer.side,
      c.layer.index,
    ]),
    [
      ["/bin/busybox", ["content", "mode"], "current", 1],
      ["/bin/sh", ["target"], "current", 1],
      ["/etc/motd", ["owner"], "current", 1],
    ],
  );
  t.deepEqual(
    [platform.files.changes[1].before.target, platform.files.changes[1].after.target],
    ["busybox", "/tmp/evil"],
  );
});

test("a multi-platform image with one platform changed: only that platform's files", async (t) => {
  const bed = testbed();
  const ref = bed.registry.ref("team/multi:2");
  const amd = [{ path: "app", content: "amd64 build" }];
  const arm = [{ path: "app", content: "arm64 build" }];
  const pinned = await pushLayeredIndex(t, bed.crane, ref, {
    "linux/amd64": { layers: [harmless, amd] },
    "linux/arm64": { layers: [harmless, arm] },
  });
  const policy = await policyFile(bed, { [ref]: pinned.digest });
  await pushLayeredIndex(t, bed.crane, ref, {
    "linux/amd64": { layers: [harmless, amd] },
    "linux/arm64": {
      layers: [harmless, [...arm, { path: "usr/bin/miner", content: "xmrig", mode: 0o755 }]],
    },
  });
  const run = await digestpin(bed, policy, ["diff", ref, "--files"]);
  t.is(run.status, 1, run.stderr);
  t.regex(run.stdout, /\nlinux\/amd64: unchanged sha256:/);
  t.regex(run.stdout, /\nfiles of linux\/amd64: not compared \(unchanged\)\n/);
  t.deepEqual(fileLines(run.stdout, "linux/arm64"), [
    "  + /usr/bin/miner  file 0755 0:0 5 B  (current layer 2/2)",
  ]);
  t.regex(
    run.stdout,
    /\n {2}layering {2}the same lower layers; the top layer differs \(1 of 2 layers shared\)\n/,
  );

  const one = await digestpin(bed, policy, ["diff", ref, "--files", "--platform", "linux/arm64"]);
  t.false(one.stdout.includes("files of linux/amd64"));
  t.deepEqual(fileLines(one.stdout, "linux/arm64"), fileLines(run.stdout, "linux/arm64"));
});

test("the download cap stops before downloading, saying what would have been read", async (t) => {
  const { bed, ref, policy } = await movedTag(t, "team/capped:1", [
    { path: "blob", content: randomBytes(64 * 1024) },
  ]);
  // Only this image's repository: the other tests of the file run meanwhile, and some of their
  // images share a base layer with this one.
  const before = (await blobReads(bed, "team/capped")).length;
  const run = await digestpin(bed, policy, ["diff", ref, "--files", "--max-download", "1Ki"]);
  t.is(run.status, 2);
  t.regex(
    run.stderr,
    /^digestpin diff: reading the 1 changed layer of linux\/amd64 would download \d+(\.\d)? KiB, more than --max-download 1\.0 KiB allows; it was not downloaded\. Raise --max-download/m,
  );
  const layers = (await bed.crane.manifest(ref)).json.layers as { digest: string }[];
  const reads = (await blobReads(bed, "team/capped")).slice(before);
  t.false(
    layers.some((layer) => reads.includes(layer.digest)),
    "no layer was downloaded (only image configs)",
  );
  t.regex(run.stdout, /\n {2}layers {4}1 unchanged/, "the layer-level review is printed first");
  t.regex(
    (await digestpin(bed, policy, ["diff", ref, "--files", "--max-download", "lots"])).stderr,
    /--max-download: "lots" is not a size/,
  );
  t.regex(
    (await digestpin(bed, policy, ["diff", ref, "--platform", "linux/amd64"])).stderr,
    /--platform needs --files/,
  );
});
