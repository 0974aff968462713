import test from "ava";
import { runCli } from "../../helpers/run-cli.ts";

const sha256 = `sha256:${"0123456789abcdef".repeat(4)}`;

const run = (...args: string[]) => runCli(["parse", ...args]);

test("prints one JSON object per reference, keys in order", async (t) => {
  const { status, lines, stderr } = await run("busybox", `ghcr.io/o/app:v1@${sha256}`);
  t.is(status, 0);
  t.is(stderr, "");
  t.deepEqual(lines, [
    '{"input":"busybox","registry":"docker.io","repository":"library/busybox","tag":"latest","digest":null,"name":"docker.io/library/busybox","canonical":"docker.io/library/busybox:latest","familiar":"busybox:latest"}',
    `{"input":"ghcr.io/o/app:v1@${sha256}","registry":"ghcr.io","repository":"o/app","tag":"v1","digest":"${sha256}","name":"ghcr.io/o/app","canonical":"ghcr.io/o/app:v1@${sha256}","familiar":"ghcr.io/o/app:v1@${sha256}"}`,
  ]);
});

test("a digest-only reference has a null tag", async (t) => {
  const { status, lines } = await run(`busybox@${sha256}`);
  t.is(status, 0);
  const parsed = JSON.parse(lines[0]!);
  t.is(parsed.tag, null);
  t.is(parsed.digest, sha256);
  t.is(parsed.canonical, `docker.io/library/busybox@${sha256}`);
});

test("an invalid reference prints an error line, reports on stderr and exits 2", async (t) => {
  const { status, lines, stderr } = await run("docker/Docker", "busybox", "foo:-x");
  t.is(status, 2);
  t.deepEqual(
    lines.map((line) => JSON.parse(line) as unknown),
    [
      { input: "docker/Docker", error: 'name "docker/Docker": repository path must be lowercase' },
      JSON.parse(lines[1]!),
      { input: "foo:-x", error: 'tag "-x": must start with a letter, digit or underscore' },
    ],
  );
  t.is(JSON.parse(lines[1]!).canonical, "docker.io/library/busybox:latest");
  t.is(
    stderr,
    'digestpin parse: name "docker/Docker": repository path must be lowercase\n' +
      'digestpin parse: tag "-x": must start with a letter, digit or underscore\n',
  );
});

test("an argument that starts with '-' is a reference, not an unknown option", async (t) => {
  const { status, lines } = await run("-docker", "--latest");
  t.is(status, 2);
  t.deepEqual(
    lines.map((line) => (JSON.parse(line) as { input: string }).input),
    ["-docker", "--latest"],
  );
  t.is(
    JSON.parse(lines[0]!).error,
    'name "-docker": path component "-docker" must start with a lowercase letter or digit',
  );
});

test("'--' ends the options", async (t) => {
  const { status, lines } = await run("--", "--help");
  t.is(status, 2);
  t.is(JSON.parse(lines[0]!).input, "--help");
});

test("an empty argument is an invalid reference", async (t) => {
  const { status, lines } = await run("");
  t.is(status, 2);
  t.deepEqual(JSON.parse(lines[0]!), { input: "", error: "the image reference is empty" });
});

test("no reference is a usage error", async (t) => {
  const { status, stdout, stderr } = await run();
  t.is(status, 2);
  t.is(stdout, "");
  t.regex(stderr, /^digestpin parse: no image reference given\n\nUsage: digestpin parse REF…/);
});

for (const flag of ["--help", "-h"]) {
  test(`${flag} prints the usage and exits 0`, async (t) => {
    const { status, stdout, stderr } = await run(flag, "busybox");
    t.is(status, 0);
    t.is(stderr, "");
    t.regex(stdout, /^Usage: digestpin parse REF…/);
    t.true(
      stdout.includes(
        '"input","registry","repository","tag","digest","name","canonical","familiar"',
      ),
    );
  });
}

test("digestpin lists the parse command", async (t) => {
  const { status, stdout } = await runCli(["--help"]);
  t.is(status, 0);
  t.regex(stdout, /\n {2}parse {6}Show how image references are read and normalized\n/);
});
