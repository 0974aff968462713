import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { runCli } from "../../helpers/run-cli.ts";

const D = `sha256:${"d".repeat(64)}`;
const E = `sha256:${"e".repeat(64)}`;
const POLICY = `apiVersion: digestpin.dev/v1alpha1\nkind: Policy\npins:\n  busybox:1.36: ${D}\n  nginx:1: ${D}\n`;
const PINS = `apiVersion: digestpin.dev/v1alpha1\nkind: Pins\npins:\n  docker.io/library/busybox:1.36: ${E}\n`;

/** Writes `files` into a fresh directory removed after the test; returns their paths. */
async function files(
  t: ExecutionContext,
  contents: Record<string, string>,
): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), "digestpin-policy-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const paths: Record<string, string> = {};
  for (const [name, text] of Object.entries(contents)) {
    paths[name] = join(dir, name);
    await writeFile(paths[name], text);
  }
  return paths;
}

test("a valid file prints FILE: ok (N pins)", async (t) => {
  const { policy, one } = await files(t, {
    policy: POLICY,
    one: `apiVersion: digestpin.dev/v1alpha1\nkind: Pins\npins:\n  a:1: ${D}\n`,
  });
  const run = await runCli(["policy", "validate", policy!, one!]);
  t.is(run.status, 0);
  t.deepEqual(run.lines, [`${policy}: ok (2 pins)`, `${one}: ok (1 pin)`]);
  t.is(run.stderr, "");
});

test("examples/policy.yaml validates", async (t) => {
  const run = await runCli(["policy", "validate", "examples/policy.yaml"]);
  t.is(run.status, 0);
  t.regex(run.stdout, /^examples\/policy\.yaml: ok \(\d+ pins\)\n$/);
});

test("every error is printed with its position, exit status 1", async (t) => {
  const { bad, good } = await files(t, {
    bad: `apiVersion: digestpin.dev/v1alpha1\nkind: Policy\nmode: on\npins:\n  busybox:1.36: sha256:abc\n`,
    good: POLICY,
  });
  const run = await runCli(["policy", "validate", bad!, good!]);
  t.is(run.status, 1);
  t.deepEqual(run.lines, [`${good}: ok (2 pins)`]);
  t.is(
    run.stderr,
    `${bad}:3:7: mode: "on" is not one of enforce, warn, audit\n` +
      `${bad}:5:17: pins["busybox:1.36"]: "sha256:abc" is not a sha256 digest (64 lowercase hex)\n`,
  );
});

test("files that are each valid but pin one tag to two digests conflict", async (t) => {
  const { policy, pins } = await files(t, { policy: POLICY, pins: PINS });
  const run = await runCli(["policy", "validate", policy!, pins!]);
  t.is(run.status, 1);
  t.is(run.lines.length, 2);
  t.is(
    run.stderr,
    `${pins}:4:3: pins["docker.io/library/busybox:1.36"]: pinned to ${E} here but to ${D} in ${policy}:4:3; a tag has one pin: remove one of them\n`,
  );
});

test("two policies are validated separately, not merged", async (t) => {
  const other = POLICY.replace(`busybox:1.36: ${D}`, `busybox:1.36: ${E}`);
  const { a, b } = await files(t, { a: POLICY, b: other });
  const run = await runCli(["policy", "validate", a!, b!]);
  t.is(run.status, 0);
});

test("an unreadable file is an error", async (t) => {
  const run = await runCli(["policy", "validate", "/nonexistent/policy.yaml"]);
  t.is(run.status, 1);
  t.regex(run.stderr, /^\/nonexistent\/policy\.yaml: cannot read: ENOENT/);
});

test("usage errors exit 2; --help exits 0", async (t) => {
  for (const args of [
    ["policy"],
    ["policy", "validate"],
    ["policy", "check", "x"],
    ["policy", "validate", "--strict", "x"],
  ]) {
    const run = await runCli(args);
    t.is(run.status, 2, args.join(" "));
    t.regex(run.stderr, /Usage: digestpin policy validate FILE…/);
  }
  const help = await runCli(["policy", "--help"]);
  t.is(help.status, 0);
  t.regex(help.stdout, /^Usage: digestpin policy validate FILE…/);
  t.regex((await runCli(["--help"])).stdout, /policy\s+Validate policy and pins files/);
});
