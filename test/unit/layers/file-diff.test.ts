import { createHash } from "node:crypto";
import test from "ava";
import type { FileChange } from "../../../src/layers/file-compare.ts";
import {
  diffImageFiles,
  planStacks,
  type ReadEntries,
  type SharedLayers,
} from "../../../src/layers/image-file-diff.ts";
import type { LayerRef } from "../../../src/layers/read-layer.ts";
import { TarParser } from "../../../src/layers/tar-reader.ts";
import { layerTar, type LayerEntry } from "../../harness/layer-tar.ts";

// File-level differences of two layer stacks with the OCI whiteout rules, reading the shared
// layers only when an answer depends on them.

interface Store {
  readonly layer: (entries: LayerEntry[]) => LayerRef;
  readonly read: ReadEntries;
  readonly reads: string[];
}

function store(): Store {
  const blobs = new Map<string, Buffer>();
  const reads: string[] = [];
  return {
    reads,
    layer: (entries) => {
      const tar = layerTar(entries);
      const digest = `sha256:${createHash("sha256").update(tar).digest("hex")}`;
      blobs.set(digest, tar);
      return { digest, size: tar.length };
    },
    read: (layer, role, onEntry, hash) => {
      reads.push(`${role.side}:${role.index}`);
      const parser = new TarParser(onEntry, { hash });
      parser.write(blobs.get(layer.digest) ?? Buffer.alloc(0));
      parser.end();
      return Promise.resolve();
    },
  };
}

async function diff(
  s: Store,
  pinned: LayerRef[],
  current: LayerRef[],
  shared: SharedLayers = "read",
) {
  return diffImageFiles(planStacks(pinned, current), { read: s.read, shared });
}

/** `+ /path`, `- /path`, `~ /path mode,target`, `? /path`, with the origin `current:1`. */
const lines = (changes: readonly FileChange[]) =>
  changes.map((c) => {
    const mark = { added: "+", removed: "-", changed: "~", unknown: "?" }[c.kind];
    const what = c.kind === "changed" ? ` ${c.differences.join(",")}` : "";
    return `${mark} ${c.path}${what} @${c.origin.side}:${c.origin.layer}`;
  });

const base: LayerEntry[] = [
  { path: "bin", type: "dir" },
  { path: "bin/sh", content: "shell", mode: 0o755 },
  { path: "bin/tool", content: "tool", mode: 0o755 },
  { path: "etc", type: "dir" },
  { path: "etc/motd", content: "hello" },
  { path: "etc/conf.d", type: "dir" },
  { path: "etc/conf.d/a.conf", content: "a" },
  { path: "etc/conf.d/b.conf", content: "b" },
  { path: "link", type: "symlink", target: "bin/sh" },
];

test("the attack: one layer adding /harmful on top of the pinned image shows exactly that", async (t) => {
  const s = store();
  const L1 = s.layer(base);
  const L2 = s.layer([{ path: "harmful", content: "evil" }]);
  const result = await diff(s, [L1], [L1, L2]);
  t.deepEqual(lines(result.changes), ["+ /harmful @current:1"]);
  t.is(result.sharedLayers, "read", "whether the base had /harmful decides + or ~");
  t.deepEqual(s.reads, ["current:1", "shared:0"]);
  t.is(
    result.changes[0]?.after?.digest,
    `sha256:${createHash("sha256").update("evil").digest("hex")}`,
  );
});

test("without reading the shared layers, what depends on them is unknown, not guessed", async (t) => {
  const s = store();
  const L1 = s.layer(base);
  const L2 = s.layer([
    { path: "harmful", content: "evil" },
    { type: "whiteout", path: "etc/conf.d" },
  ]);
  const result = await diff(s, [L1], [L1, L2], "skip");
  t.is(result.sharedLayers, "skipped");
  t.deepEqual(lines(result.changes), ["? /etc/conf.d @current:1", "? /harmful @current:1"]);
  t.true(result.changes[0]?.subtree);
  t.deepEqual(s.reads, ["current:1"]);
});

test("whiteouts delete a file, and a directory with everything under it", async (t) => {
  const s = store();
  const L1 = s.layer(base);
  const L2 = s.layer([
    { type: "whiteout", path: "etc/motd" },
    { type: "whiteout", path: "etc/conf.d" },
    { type: "whiteout", path: "not/there" },
  ]);
  const result = await diff(s, [L1], [L1, L2]);
  t.deepEqual(lines(result.changes), [
    "- /etc/conf.d @current:1",
    "- /etc/conf.d/a.conf @current:1",
    "- /etc/conf.d/b.conf @current:1",
    "- /etc/motd @current:1",
  ]);
});

test("an opaque directory hides what is below it, keeps what its own layer writes", async (t) => {
  const s = store();
  const L1 = s.layer(base);
  const L2 = s.layer([
    { path: "etc/conf.d", type: "dir" },
    { type: "opaque", path: "etc/conf.d" },
    { path: "etc/conf.d/c.conf", content: "c" },
  ]);
  const result = await diff(s, [L1], [L1, L2]);
  t.deepEqual(lines(result.changes), [
    "- /etc/conf.d/a.conf @current:1",
    "- /etc/conf.d/b.conf @current:1",
    "+ /etc/conf.d/c.conf @current:1",
  ]);
});

test("mode, owner, symlink target and same-size content changes; identical rewrites are not changes", async (t) => {
  const s = store();
  const L1 = s.layer(base);
  const L2 = s.layer([
    { path: "bin/tool", content: "tool", mode: 0o4755 },
    { path: "bin/sh", content: "SHELL", mode: 0o755 },
    { path: "etc/motd", content: "hello", uid: 1000, gid: 1000 },
    { path: "link", type: "symlink", target: "harmful" },
    { path: "etc/conf.d/a.conf", content: "a", mtime: 1_700_000_000 },
  ]);
  const result = await diff(s, [L1], [L1, L2]);
  t.deepEqual(lines(result.changes), [
    "~ /bin/sh content @current:1",
    "~ /bin/tool mode @current:1",
    "~ /etc/motd owner @current:1",
    "~ /link target @current:1",
  ]);
  const link = result.changes.find((c) => c.path === "/link");
  t.deepEqual([link?.before?.linkname, link?.after?.linkname], ["bin/sh", "harmful"]);
});

test("rebuilt top layers writing the same paths are compared without the shared layers", async (t) => {
  const s = store();
  const L1 = s.layer(base);
  const A = s.layer([
    { path: "app/main.js", content: "v1" },
    { path: "app/lib.js", content: "lib" },
  ]);
  const B = s.layer([
    { path: "app/main.js", content: "v2" },
    { path: "app/lib.js", content: "lib" },
  ]);
  const result = await diff(s, [L1, A], [L1, B]);
  t.deepEqual(lines(result.changes), ["~ /app/main.js content @current:1"]);
  t.is(result.sharedLayers, "not-needed");
  t.deepEqual(s.reads, ["pinned:1", "current:1"], "the shared layer is never read");
});

test("images with no layer in common are compared whole; the pinned image's whiteouts count", async (t) => {
  const s = store();
  const A = s.layer([
    { path: "a", content: "1" },
    { path: "b", content: "2" },
  ]);
  const B = s.layer([
    { path: "a", content: "1" },
    { path: "c", content: "3" },
  ]);
  const result = await diff(s, [A], [B]);
  t.deepEqual(lines(result.changes), ["- /b @pinned:0", "+ /c @current:0"]);
  t.is(result.sharedLayers, "not-needed");

  const s2 = store();
  const L1 = s2.layer(base);
  const W = s2.layer([{ type: "whiteout", path: "etc/motd" }]);
  const back = await diff(s2, [L1, W], [L1]);
  t.deepEqual(lines(back.changes), ["+ /etc/motd @pinned:1"], "the pinned whiteout is gone");
});

test("a whiteout and the same path written again in one layer: the layer's entry stays", async (t) => {
  const s = store();
  const L1 = s.layer(base);
  const L2 = s.layer([
    { type: "whiteout", path: "etc/conf.d" },
    { path: "etc/conf.d", type: "dir" },
    { path: "etc/conf.d/new.conf", content: "n" },
  ]);
  const result = await diff(s, [L1], [L1, L2]);
  t.deepEqual(lines(result.changes), [
    "- /etc/conf.d/a.conf @current:1",
    "- /etc/conf.d/b.conf @current:1",
    "+ /etc/conf.d/new.conf @current:1",
  ]);
});

test("a file replacing a directory removes what was under it", async (t) => {
  const s = store();
  const L1 = s.layer(base);
  const L2 = s.layer([{ path: "etc/conf.d", content: "now a file" }]);
  const result = await diff(s, [L1], [L1, L2]);
  t.deepEqual(lines(result.changes), [
    "~ /etc/conf.d type,mode @current:1",
    "- /etc/conf.d/a.conf @current:1",
    "- /etc/conf.d/b.conf @current:1",
  ]);
});

test("whiteouts inside the shared layers are applied when reading them", async (t) => {
  const s = store();
  const L1 = s.layer(base);
  const L2 = s.layer([
    { type: "whiteout", path: "etc/motd" },
    { type: "whiteout", path: "etc/conf.d" },
  ]);
  const L3 = s.layer([
    { path: "etc/motd", content: "hello" },
    { path: "etc/conf.d/a.conf", content: "a" },
  ]);
  const result = await diff(s, [L1, L2], [L1, L2, L3]);
  t.deepEqual(lines(result.changes), ["+ /etc/conf.d/a.conf @current:2", "+ /etc/motd @current:2"]);
  t.deepEqual(s.reads, ["current:2", "shared:0", "shared:1"]);
});

test("hardlinks compare by their target path", async (t) => {
  const s = store();
  const L1 = s.layer([...base, { path: "bin/ls", type: "hardlink", target: "bin/tool" }]);
  const L2 = s.layer([{ path: "bin/ls", type: "hardlink", target: "bin/sh" }]);
  const result = await diff(s, [L1], [L1, L2]);
  t.deepEqual(lines(result.changes), ["~ /bin/ls target @current:1"]);
  t.deepEqual(
    [result.changes[0]?.before?.linkname, result.changes[0]?.after?.linkname],
    ["/bin/tool", "/bin/sh"],
  );
});

test("a layer in both images at different places is read once", async (t) => {
  const s = store();
  const L1 = s.layer(base);
  const X = s.layer([{ path: "x", content: "x" }]);
  const Y = s.layer([{ path: "y", content: "y" }]);
  const result = await diff(s, [L1, X, Y], [L1, Y, X]);
  t.deepEqual(lines(result.changes), []);
  t.deepEqual(s.reads, ["pinned:1", "pinned:2"]);
});
