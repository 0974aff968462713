import { readFileSync } from "node:fs";
import test from "ava";

// Static checks; test/cluster builds the image (make image) and runs it on a node.
const dockerfile = readFileSync(new URL("../../Dockerfile", import.meta.url), "utf8");
const instructions = dockerfile
  .replace(/\\\n\s*/g, " ") // join continuation lines
  .split("\n")
  .filter((line) => line.trim() !== "" && !line.startsWith("#"));

test("every stage starts from BASE_IMAGE, by default the Node 24 image pinned by sha256 digest", (t) => {
  const args = instructions.filter((line) => /^ARG\s+BASE_IMAGE=/.test(line));
  t.is(args.length, 1, "one BASE_IMAGE argument with a default");
  t.is(instructions.indexOf(args[0]!), 0, "declared before the first FROM");
  const image = args[0]!.replace(/^ARG\s+BASE_IMAGE=/, "");
  t.regex(image, /^[\w./-]+:[\w.-]+@sha256:[a-f0-9]{64}$/, `not pinned by digest: ${image}`);
  t.regex(image, /^node:24[-.]/, `not the Node 24 base: ${image}`);
  const froms = instructions.filter((line) => /^FROM\s/i.test(line));
  t.true(froms.length >= 2, "a multi-stage build");
  t.deepEqual(new Set(froms.map((line) => line.split(/\s+/)[1]!)), new Set(["${BASE_IMAGE}"]));
  t.false(/^#\s*syntax=/m.test(dockerfile), "a syntax directive pulls a frontend image by tag");
});

test("production dependencies only, non-root numeric user, the chart's entrypoint", (t) => {
  t.true(instructions.some((line) => line.includes("npm ci --omit=dev")));
  const runtime = instructions.slice(instructions.findLastIndex((line) => /^FROM\s/.test(line)));
  t.deepEqual(
    runtime.filter((line) => /^(USER|ENTRYPOINT|CMD)\s/.test(line)),
    [
      "USER 65532:65532",
      'ENTRYPOINT ["node", "--max-semi-space-size=16", "/app/dist/cli.js"]',
      'CMD ["serve"]',
    ],
  );
  // The chart runs as the same user (the kubelet checks runAsNonRoot against a numeric USER).
  const values = readFileSync(
    new URL("../../charts/digestpin/values.yaml", import.meta.url),
    "utf8",
  );
  t.regex(values, /runAsUser: 65532\n\s+runAsGroup: 65532/);
});

test(".dockerignore keeps everything but the build inputs out of the context", (t) => {
  const ignore = readFileSync(new URL("../../.dockerignore", import.meta.url), "utf8")
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"));
  t.is(ignore[0], "*");
  const included = ignore.filter((line) => line.startsWith("!")).map((line) => line.slice(1));
  const copied = instructions
    .filter((line) => /^COPY\s/.test(line) && !line.includes("--from="))
    .flatMap((line) => line.split(/\s+/).slice(1, -1))
    .map((path) => path.replace(/\*$/, "").replace(/\/$/, ""));
  for (const path of copied) {
    t.true(
      included.some((entry) => entry.replace(/\/$/, "") === path),
      `${path} is copied but ignored`,
    );
  }
});
