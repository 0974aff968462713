import test from "ava";
import { runCli } from "../../helpers/run-cli.ts";

// `digestpin resolve` reports every reference that fails, not only the first: here an invalid
// reference and two registries that refuse connections (127.0.0.1:1, nothing listens there).

test("every failing reference is reported on its own line; exit 1", async (t) => {
  const run = await runCli(
    ["resolve", "Bad:Ref", "127.0.0.1:1/a:1", "127.0.0.1:1/b:2", "--timeout", "5s"],
    { HOME: "/nonexistent" },
  );
  t.is(run.status, 1);
  const lines = run.stderr.trimEnd().split("\n");
  t.is(lines.length, 4, run.stderr);
  t.regex(lines[0] ?? "", /^digestpin resolve: Bad:Ref: .*lowercase/);
  t.regex(lines[1] ?? "", /^digestpin resolve: 127\.0\.0\.1:1\/a:1: cannot reach /);
  t.regex(lines[2] ?? "", /^digestpin resolve: 127\.0\.0\.1:1\/b:2: cannot reach /);
  t.is(lines[3], "3 of 3 references failed");
  t.is(run.stdout, "");
});

test("--json prints an error object for each failure, in argument order", async (t) => {
  const run = await runCli(["resolve", "--json", "UPPER", "127.0.0.1:1/a:1", "--timeout", "5s"], {
    HOME: "/nonexistent",
  });
  t.is(run.status, 1);
  const objects = run.lines.map((line) => JSON.parse(line) as { input: string; error: string });
  t.deepEqual(
    objects.map((o) => o.input),
    ["UPPER", "127.0.0.1:1/a:1"],
  );
  t.true(objects.every((o) => o.error.length > 0));
});

test("an unreadable --ca-file is a clear error (exit 2), not a crash", async (t) => {
  const run = await runCli(["resolve", "busybox", "--ca-file", "/nonexistent/ca.pem"]);
  t.is(run.status, 2);
  t.is(
    run.stderr,
    'digestpin resolve: --ca-file "/nonexistent/ca.pem" cannot be read: no such file\n',
  );
});
