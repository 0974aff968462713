import test from "ava";
import { compareImages, compareLayers } from "../../../src/cli/diff/compare.ts";
import { formatSize, platformLines } from "../../../src/cli/diff/report.ts";
import type { ImageDetails, PlatformImage } from "../../../src/registry/image-details.ts";
import { runCli } from "../../helpers/run-cli.ts";

// Comparing a pinned image with the one a tag points to now.

const d = (c: string) => `sha256:${c.repeat(64)}`;
const image = (platform: string, digest: string, layers: [string, number][]): PlatformImage => ({
  platform,
  digest,
  configDigest: d("c"),
  created: "2026-01-01T00:00:00Z",
  layers: layers.map(([c, size]) => ({ digest: d(c), size })),
});
const index = (digest: string, images: PlatformImage[]): ImageDetails => ({
  digest,
  mediaType: "application/vnd.oci.image.index.v1+json",
  index: true,
  images,
});

test("layers are matched by digest, duplicates counted: unchanged, added, removed", (t) => {
  const before = image("linux/amd64", d("1"), [
    ["a", 10],
    ["b", 20],
    ["b", 20],
    ["c", 30],
  ]);
  const after = image("linux/amd64", d("2"), [
    ["a", 10],
    ["b", 20],
    ["d", 40],
  ]);
  t.deepEqual(
    compareLayers(before, after).map((l) => [l.change, l.digest.slice(7, 8), l.size]),
    [
      ["unchanged", "a", 10],
      ["unchanged", "b", 20],
      ["added", "d", 40],
      ["removed", "b", 20],
      ["removed", "c", 30],
    ],
  );
});

test("platforms of two indexes are matched by name; new and gone ones are named", (t) => {
  const pinned = index(d("0"), [
    image("linux/amd64", d("1"), [["a", 1]]),
    image("linux/s390x", d("2"), []),
  ]);
  const current = index(d("9"), [
    image("linux/amd64", d("1"), [["a", 1]]),
    image("linux/arm64", d("3"), [["b", 2048]]),
  ]);
  const diff = compareImages(pinned, current);
  t.false(diff.same);
  t.deepEqual(platformLines(diff), [
    "",
    `linux/amd64: unchanged ${d("1")}`,
    "",
    "linux/arm64: new platform",
    "  layers    0 unchanged (0 B), 1 added (2.0 KiB), 0 removed (0 B)",
    `    + ${d("b")}  2.0 KiB`,
    "",
    "linux/s390x: gone (only in the pinned image)",
  ]);
});

test("sizes are human-readable", (t) => {
  t.is(formatSize(0), "0 B");
  t.is(formatSize(1023), "1023 B");
  t.is(formatSize(1536), "1.5 KiB");
  t.is(formatSize(5 * 1024 * 1024), "5.0 MiB");
});

test("diff needs exactly one tag", async (t) => {
  t.is((await runCli(["diff"])).status, 2);
  t.regex((await runCli(["diff", "a:1", "b:1"])).stderr, /exactly one image reference/);
  t.regex((await runCli(["diff", "a@" + d("a")])).stderr, /name a tag/);
});
