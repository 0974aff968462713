import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import test from "ava";
import { freePort } from "../../harness/ports.ts";
import { runCli } from "../../helpers/run-cli.ts";

// digestpin's version: package.json's, printed by --version and `version`, logged when serve
// starts; the Node.js it needs, the same in engines, .nvmrc and the npm entry's check.

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")) as {
  version: string;
  engines: { node: string };
  bin: Record<string, string>;
};

test("--version and version print package.json's version", async (t) => {
  for (const args of [["--version"], ["version"]]) {
    const run = await runCli(args);
    t.is(run.status, 0);
    t.is(run.stdout, `${pkg.version}\n`);
  }
  const json = await runCli(["version", "-o", "json"]);
  t.deepEqual(JSON.parse(json.stdout), { version: pkg.version, node: process.version });
  t.is((await runCli(["version", "-o", "xml"])).status, 2);
  t.is((await runCli(["version", "extra"])).status, 2);
});

test("the Node.js needed is one number: engines, .nvmrc and the entry's check agree", (t) => {
  const nvmrc = readFileSync(`${ROOT}.nvmrc`, "utf8").trim();
  t.is(pkg.engines.node, `>=${nvmrc}`);
  const entry = readFileSync(`${ROOT}${pkg.bin.digestpin ?? ""}`, "utf8");
  t.regex(entry, new RegExp(`^var MINIMUM_NODE = ${nvmrc};$`, "m"));
  t.is(pkg.bin["kubectl-digestpin"], pkg.bin.digestpin, "the kubectl plugin is the same entry");
});

test("serve's start-up log line carries the version", async (t) => {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "src/cli.ts",
      "serve",
      "--policy",
      "examples/policy.yaml",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--metrics-host",
      "127.0.0.1",
      "--metrics-port",
      String(metricsPort),
      "--drain-delay",
      "0",
    ],
    { cwd: ROOT, env: { ...process.env, KUBECONFIG: "" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  t.teardown(() => child.kill("SIGKILL"));
  let out = "";
  const serving = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no start-up line: ${out}`));
    }, 60_000);
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      for (const line of out.split("\n")) {
        if (!line.includes("digestpin is serving")) continue;
        clearTimeout(timer);
        resolve(JSON.parse(line) as Record<string, unknown>);
      }
    });
  });
  t.is(serving.version, pkg.version);
  t.is(serving.msg, "digestpin is serving");
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  t.is(await exited, 0);
});
