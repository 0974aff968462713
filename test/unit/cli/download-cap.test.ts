import test from "ava";
import { DownloadCap, parseSize } from "../../../src/cli/diff/download-cap.ts";

test("sizes: Ki/Mi/Gi powers of 1024, k/M/G powers of 1000, B optional", (t) => {
  t.is(parseSize("1000"), 1000);
  t.is(parseSize("20MiB"), 20 * 1024 * 1024);
  t.is(parseSize("512Mi"), 512 * 1024 * 1024);
  t.is(parseSize("1.5G"), 1_500_000_000);
  t.is(parseSize("2GB"), 2_000_000_000);
  t.is(parseSize("4k"), 4000);
  t.is(parseSize("1Ki"), 1024);
  t.regex(String(parseSize("lots")), /not a size/);
  t.regex(String(parseSize("-1M")), /not a size/);
});

test("the cap counts what was reserved and refuses what would pass it", (t) => {
  const cap = new DownloadCap(1000);
  cap.reserve(600, "reading a");
  t.is(cap.used, 600);
  t.throws(
    () => {
      cap.reserve(500, "reading b");
    },
    {
      code: "ERR_DOWNLOAD_CAP",
      message:
        /^reading b would download 500 B on top of the 600 B read already, more than --max-download 1000 B allows/,
    },
  );
  t.is(cap.used, 600);
  cap.reserve(400, "reading c");
  t.is(cap.used, 1000);
});
