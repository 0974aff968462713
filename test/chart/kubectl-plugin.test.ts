import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { tempDir } from "../harness/lifecycle.ts";
import { runCommand } from "../harness/run-command.ts";
import { toolPath } from "../harness/tools.ts";

// The npm package as users get it: packed, installed globally into a prefix, and found by
// kubectl as the plugin `kubectl digestpin`.

const root = fileURLToPath(new URL("../..", import.meta.url));

test("npm install -g puts digestpin and kubectl-digestpin on PATH; kubectl runs the plugin", async (t) => {
  t.true(existsSync(join(root, "dist/cli.js")), "make build first (make chart does)");
  const dir = await tempDir(t, "kubectl-plugin");
  const packed = await runCommand("npm", ["pack", "--pack-destination", dir, "--loglevel=error"], {
    cwd: root,
  });
  t.is(packed.exitCode, 0, packed.stderr);
  const tarball = join(dir, packed.stdout.trim().split("\n").at(-1)!);
  const prefix = join(dir, "prefix");
  const installed = await runCommand(
    "npm",
    [
      "install",
      "-g",
      "--prefix",
      prefix,
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      tarball,
    ],
    { timeoutMs: 300_000 },
  );
  t.is(installed.exitCode, 0, installed.stderr);
  const path = `${join(prefix, "bin")}:${process.env.PATH ?? ""}`;
  const kubectl = await toolPath("kubectl");

  const listed = await runCommand(kubectl, ["plugin", "list"], { env: { PATH: path } });
  t.true(
    listed.stdout.includes(join(prefix, "bin", "kubectl-digestpin")),
    listed.stdout + listed.stderr,
  );

  const parsed = await runCommand(kubectl, ["digestpin", "parse", "busybox:1.36"], {
    env: { PATH: path },
  });
  t.is(parsed.exitCode, 0, parsed.stderr);
  t.is(JSON.parse(parsed.stdout).canonical, "docker.io/library/busybox:1.36");

  const help = await runCommand(join(prefix, "bin", "digestpin"), ["--help"], {
    env: { PATH: path },
  });
  for (const command of ["serve", "pin", "diff", "approve", "check"]) {
    t.regex(help.stdout, new RegExp(`\\n  ${command} `), command);
  }
});
