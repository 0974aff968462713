import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { runCommand } from "../harness/run-command.ts";
import { toolPath } from "../harness/tools.ts";

// The npm package as users get it: packed (prepack builds it), installed globally into a
// prefix with the project's Node.js 24, and run from there: digestpin and the kubectl plugin
// `kubectl digestpin` on PATH, the examples checked, and the system's older Node.js refused
// with one clear line. Also `npx` of the tarball and `npm install -g` of a checkout.

const root = fileURLToPath(new URL("../..", import.meta.url));
const { version } = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as {
  version: string;
};
const SYSTEM_NODE = "/usr/bin/node";
const NPM_FLAGS = ["--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"];

let work = "";
let tarball = "";
let prefix = "";
let bin = "";
/** PATH with the installed bin first (and the project's Node.js, as make puts it). */
let path = "";

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), "digestpin-npm-package-"));
  const packed = await runCommand("npm", ["pack", "--pack-destination", work, "--loglevel=error"], {
    cwd: root,
  });
  if (packed.exitCode !== 0) throw new Error(`npm pack failed: ${packed.stderr}`);
  tarball = join(work, packed.stdout.trim().split("\n").at(-1)!);
  prefix = join(work, "prefix");
  const installed = await runCommand(
    "npm",
    ["install", "-g", "--prefix", prefix, ...NPM_FLAGS, tarball],
    { timeoutMs: 300_000 },
  );
  if (installed.exitCode !== 0) throw new Error(`npm install -g failed: ${installed.stderr}`);
  bin = join(prefix, "bin");
  path = `${bin}:${process.env.PATH ?? ""}`;
});

test.after.always(async () => {
  if (work !== "") await rm(work, { recursive: true, force: true });
});

const digestpin = (args: readonly string[], env: NodeJS.ProcessEnv = {}) =>
  runCommand(join(bin, "digestpin"), args, { cwd: root, env: { PATH: path, ...env } });

test("the tarball ships dist, the entry, README, LICENSE and CHANGELOG only", (t) => {
  const files = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((file) => file.replace(/^package\//, ""));
  const outside = files.filter((file) => !file.startsWith("dist/"));
  t.deepEqual(outside.toSorted(), [
    "CHANGELOG.md",
    "LICENSE",
    "README.md",
    "bin/digestpin.js",
    "package.json",
  ]);
  t.true(files.includes("dist/cli.js"));
  t.false(
    files.some((file) => file.endsWith(".map") || file.endsWith(".ts")),
    "no source maps or sources",
  );
});

test("digestpin --version and digestpin version print package.json's version", async (t) => {
  const short = await digestpin(["--version"]);
  t.is(short.exitCode, 0, short.stderr);
  t.is(short.stdout, `${version}\n`);
  const long = await digestpin(["version", "-o", "json"]);
  t.deepEqual(JSON.parse(long.stdout), { version, node: process.version });
});

test("policy validate and check -o sarif work on the examples from the installed copy", async (t) => {
  const validated = await digestpin(["policy", "validate", "examples/policy.yaml"]);
  t.is(validated.exitCode, 0, validated.stderr);
  t.is(validated.stdout, "examples/policy.yaml: ok (3 pins)\n");

  const checked = await digestpin([
    "check",
    "-f",
    "examples/",
    "--policy",
    "examples/policy.yaml",
    "--timeout",
    "10s",
    "-o",
    "sarif",
  ]);
  t.is(checked.exitCode, 1, `busybox:1.37 is unpinned and quay.io not allowed: ${checked.stderr}`);
  const log = JSON.parse(checked.stdout) as {
    $schema: string;
    version: string;
    runs: {
      tool: { driver: { name: string; version: string; rules: { id: string }[] } };
      results: {
        ruleId: string;
        level: string;
        locations: {
          physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } };
        }[];
      }[];
    }[];
  };
  t.is(log.$schema, "https://json.schemastore.org/sarif-2.1.0.json");
  t.is(log.version, "2.1.0");
  const run = log.runs[0]!;
  t.deepEqual([run.tool.driver.name, run.tool.driver.version], ["digestpin", version]);
  const rules = run.tool.driver.rules.map((rule) => rule.id);
  const denials = run.results
    .filter((result) => result.level === "error")
    .map((result) => [
      result.ruleId,
      result.locations[0]!.physicalLocation.artifactLocation.uri,
      result.locations[0]!.physicalLocation.region.startLine,
    ]);
  // nginx:1.27 is decided by what docker.io answers (offline: admitted at its pin, a note).
  t.deepEqual(
    denials.filter(([rule]) => rule !== "drift"),
    [
      ["unpinned", "examples/manifests/web.yaml", 20],
      ["registry-not-allowed", "examples/manifests/web.yaml", 27],
    ],
  );
  for (const result of run.results) t.true(rules.includes(result.ruleId), result.ruleId);
});

test("npm install -g puts digestpin and kubectl-digestpin on PATH; kubectl runs the plugin", async (t) => {
  const kubectl = await toolPath("kubectl");
  const listed = await runCommand(kubectl, ["plugin", "list"], { env: { PATH: path } });
  t.true(listed.stdout.includes(join(bin, "kubectl-digestpin")), listed.stdout + listed.stderr);

  const parsed = await runCommand(kubectl, ["digestpin", "parse", "busybox:1.36"], {
    env: { PATH: path },
  });
  t.is(parsed.exitCode, 0, parsed.stderr);
  t.is(JSON.parse(parsed.stdout).canonical, "docker.io/library/busybox:1.36");

  const help = await digestpin(["--help"]);
  for (const command of ["serve", "pin", "diff", "approve", "check", "completion", "version"]) {
    t.regex(help.stdout, new RegExp(`\\n  ${command} `), command);
  }
});

test("the system's Node.js, older than engines.node, gets one clear line and exit 2", async (t) => {
  t.true(existsSync(SYSTEM_NODE), `${SYSTEM_NODE} is the machine's Node.js`);
  const systemVersion = execFileSync(SYSTEM_NODE, ["--version"], { encoding: "utf8" }).trim();
  // `#!/usr/bin/env node` finds the system's Node.js first on this PATH.
  const run = await runCommand(join(bin, "digestpin"), ["--version"], {
    env: { PATH: `${dirname(SYSTEM_NODE)}:/bin` },
  });
  if (Number(systemVersion.slice(1).split(".")[0]) >= 24) {
    t.is(run.stdout, `${version}\n`, "a recent enough system Node.js runs it");
    return;
  }
  t.is(run.exitCode, 2);
  t.is(run.stdout, "");
  t.is(
    run.stderr,
    `digestpin: needs Node.js 24 or newer, but ${SYSTEM_NODE} is Node.js ${systemVersion}; ` +
      `install Node.js 24 (https://nodejs.org) and run digestpin with it\n`,
  );
});

test("npx runs the packed package", async (t) => {
  const run = await runCommand(
    "npm",
    ["exec", "--yes", `--package=${tarball}`, ...NPM_FLAGS, "--", "digestpin", "--version"],
    { cwd: work, timeoutMs: 300_000 },
  );
  t.is(run.exitCode, 0, run.stderr);
  t.is(run.stdout, `${version}\n`);
});

test("npm install -g of a checkout builds it (prepare) and links it", async (t) => {
  // The checkout as git has it (tracked and new files), without node_modules or dist.
  const checkout = join(work, "checkout");
  const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
  })
    .trim()
    .split("\n")
    .filter((file) => existsSync(join(root, file)));
  for (const file of files) {
    await mkdir(dirname(join(checkout, file)), { recursive: true });
    await copyFile(join(root, file), join(checkout, file));
  }
  const linked = join(work, "linked");
  const installed = await runCommand(
    "npm",
    ["install", "-g", "--prefix", linked, ...NPM_FLAGS, checkout],
    { timeoutMs: 300_000 },
  );
  t.is(installed.exitCode, 0, installed.stderr);
  const run = await runCommand(join(linked, "bin", "digestpin"), ["--version"]);
  t.is(run.exitCode, 0, run.stderr);
  t.is(run.stdout, `${version}\n`);
});
