import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync, linkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { TarParser, type TarEntry } from "../../../src/layers/tar-reader.ts";
import { layerTar, type LayerEntry } from "../../harness/layer-tar.ts";

// The streaming tar reader: metadata of every member, from chunks of any size.

const sha = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;

function read(archive: Buffer, chunk = archive.length, hash = true): TarEntry[] {
  const entries: TarEntry[] = [];
  const parser = new TarParser((entry) => entries.push(entry), { hash: () => hash });
  for (let at = 0; at < archive.length; at += chunk) parser.write(archive.subarray(at, at + chunk));
  parser.end();
  return entries;
}

const sample: LayerEntry[] = [
  { path: "etc/", type: "dir", mode: 0o755 },
  { path: "etc/motd", content: "hello\n", mode: 0o644, uid: 1000, gid: 1001 },
  { path: "bin/tool", content: "#!/bin/sh\n", mode: 0o4755 },
  { path: "bin/sh", type: "symlink", target: "busybox" },
  { path: "bin/ls", type: "hardlink", target: "bin/tool" },
  { path: "dev/null", type: "char", major: 1, minor: 3, mode: 0o666 },
  { path: "run/fifo", type: "fifo" },
];

test("every member type with its mode, owner, size, target, device and content digest", (t) => {
  const entries = read(layerTar(sample));
  t.deepEqual(
    entries.map((e) => [e.path, e.type, e.mode.toString(8), e.uid, e.gid, e.size, e.linkname]),
    [
      ["etc/", "dir", "755", 0, 0, 0, ""],
      ["etc/motd", "file", "644", 1000, 1001, 6, ""],
      ["bin/tool", "file", "4755", 0, 0, 10, ""],
      ["bin/sh", "symlink", "777", 0, 0, 0, "busybox"],
      ["bin/ls", "hardlink", "644", 0, 0, 0, "bin/tool"],
      ["dev/null", "char", "666", 0, 0, 0, ""],
      ["run/fifo", "fifo", "644", 0, 0, 0, ""],
    ],
  );
  t.is(entries[1]?.digest, sha("hello\n"));
  t.is(entries[2]?.digest, sha("#!/bin/sh\n"));
  t.is(entries[0]?.digest, undefined, "only regular files are hashed");
  t.deepEqual([entries[5]?.devmajor, entries[5]?.devminor], [1, 3]);
});

test("chunks of any size give the same entries (one byte at a time, odd sizes)", (t) => {
  const archive = layerTar([
    ...sample,
    { path: `deep/${"n".repeat(150)}/file`, content: "x".repeat(1500) },
  ]);
  const whole = read(archive);
  for (const size of [1, 7, 511, 512, 513, 4096])
    t.deepEqual(read(archive, size), whole, `${size}`);
});

test("long names and link targets: PAX records and GNU long-name members", (t) => {
  const long = `${"a".repeat(60)}/${"b".repeat(60)}/${"c".repeat(60)}.txt`;
  const target = `/${"t".repeat(120)}`;
  for (const longNames of ["pax", "gnu"] as const) {
    const entries = read(
      layerTar(
        [
          { path: long, content: "long" },
          { path: "link", type: "symlink", target },
          { path: "after", content: "short name again" },
        ],
        { longNames },
      ),
    );
    t.deepEqual(
      entries.map((e) => [e.path, e.linkname]),
      [
        [long, ""],
        ["link", target],
        ["after", ""],
      ],
      longNames,
    );
    t.is(entries[0]?.digest, sha("long"));
  }
});

test("extended attributes from PAX SCHILY.xattr records (security.capability)", (t) => {
  const capability = Buffer.from("0100000200200000000000000000000000000000", "hex");
  const [entry] = read(
    layerTar([{ path: "bin/ping", content: "elf", xattrs: { "security.capability": capability } }]),
  );
  t.deepEqual(entry?.xattrs, { "security.capability": `hex:${capability.toString("hex")}` });
});

test("base-256 numbers (GNU) for ids too large for octal", (t) => {
  const archive = layerTar([{ path: "f", content: "x", uid: 1 }]);
  // uid field: 0x80 then the value big-endian; fix the checksum.
  archive.fill(0, 108, 116);
  archive[108] = 0x80;
  archive.writeUInt32BE(4_000_000_000, 112);
  archive.write("        ", 148);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += archive[i] ?? 0;
  archive.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148);
  t.is(read(archive)[0]?.uid, 4_000_000_000);
});

test("bytes after the end-of-archive marker are ignored; a missing marker is tolerated", (t) => {
  const archive = layerTar([{ path: "a", content: "1" }]);
  t.is(read(Buffer.concat([archive, Buffer.from("trailing garbage")])).length, 1);
  t.is(read(archive.subarray(0, archive.length - 1024)).length, 1);
});

test("a truncated archive and a header with a bad checksum are errors", (t) => {
  const archive = layerTar([{ path: "a", content: "x".repeat(2000) }]);
  t.throws(() => read(archive.subarray(0, 1000)), {
    code: "ERR_LAYER_FORMAT",
    message: /truncated/,
  });
  const bad = Buffer.from(archive);
  bad[0] = 0x41;
  t.throws(() => read(bad), { code: "ERR_LAYER_FORMAT", message: /checksum/ });
});

test("reads what GNU tar writes (gnu and pax formats: long names and targets, hardlinks)", (t) => {
  let version: string;
  try {
    version = execFileSync("tar", ["--version"], { encoding: "utf8" });
  } catch {
    t.pass("no tar on this machine");
    return;
  }
  if (!version.includes("GNU tar")) {
    t.pass("not GNU tar");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "digestpin-tar-"));
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const long = `${"d".repeat(80)}/${"e".repeat(80)}`;
  mkdirSync(join(dir, "root", long), { recursive: true });
  writeFileSync(join(dir, "root", long, "file.txt"), "deep\n", { mode: 0o600 });
  writeFileSync(join(dir, "root", "plain"), "plain\n");
  linkSync(join(dir, "root", "plain"), join(dir, "root", "hard"));
  symlinkSync(`../${long}/file.txt`, join(dir, "root", "sym"));
  for (const format of ["gnu", "pax"]) {
    const archive = execFileSync("tar", [
      "-C",
      join(dir, "root"),
      `--format=${format}`,
      "--sort=name",
      "--owner=0",
      "--group=0",
      "-cf",
      "-",
      ".",
    ]);
    const entries = read(archive, 1000);
    const byPath = new Map(entries.map((e) => [e.path.replace(/^\.\//, "").replace(/\/$/, ""), e]));
    // Sorted by name, "hard" comes first: it holds the content, "plain" links to it.
    t.is(byPath.get("hard")?.digest, sha("plain\n"), format);
    t.is(byPath.get("plain")?.type, "hardlink", format);
    t.is(byPath.get("plain")?.linkname, "./hard", format);
    t.is(byPath.get("sym")?.linkname, `../${long}/file.txt`, format);
    t.is(byPath.get(`${long}/file.txt`)?.digest, sha("deep\n"), format);
    t.is(byPath.get(`${long}/file.txt`)?.mode, 0o600, format);
  }
});
