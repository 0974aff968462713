import test from "ava";
import { runCli } from "../../helpers/run-cli.ts";

// `digestpin approve` usage errors (the command itself is tested against a registry and an API
// server in test/integration/cli).

test("approve needs one tag and a reason; --digest must be a digest", async (t) => {
  const cases: [string[], RegExp][] = [
    [["approve", "--reason", "x", "--policy", "p.yaml"], /give exactly one image reference/],
    [["approve", "app:1", "--policy", "p.yaml"], /--reason is required/],
    [["approve", "app:1", "--reason", " ", "--policy", "p.yaml"], /--reason is required/],
    [["approve", "app@sha256:" + "a".repeat(64), "--reason", "x"], /name a tag/],
    [["approve", "app:1", "--reason", "x", "--digest", "sha256:abc"], /is not a digest/],
    [["approve", "app:1", "--reason", "x", "--pins", "more.yaml"], /--pins needs --policy/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(args);
    t.is(run.status, 2, args.join(" "));
    t.regex(run.stderr, message);
  }
  t.regex((await runCli(["approve", "-h"])).stdout, /old digest|history/);
});
