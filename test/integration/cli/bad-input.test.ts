import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { stringify } from "yaml";
import { startControlPlane, type ControlPlane } from "../../harness/kube.ts";
import { teardownList } from "../../harness/kube-shared.ts";
import { freePort } from "../../harness/ports.ts";
import { runCommand, type CommandResult } from "../../harness/run-command.ts";

// Bad input to the real `digestpin` process: each says what is wrong and what to do in one
// line, exits non-zero, and prints no stack frame (on stderr, or in serve's JSON log).
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const suite = teardownList();
let cluster: ControlPlane;
let dir: string;
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), "digestpin-bad-input-"));
  suite.teardown(() => rm(dir, { recursive: true, force: true }));
  cluster = await startControlPlane(suite, { controllerManager: false });
});
test.after.always(() => suite.run());

async function digestpin(...args: string[]): Promise<CommandResult> {
  return runCommand(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], {
    cwd: ROOT,
    env: { KUBECONFIG: "", HOME: dir },
    timeoutMs: 60_000,
  });
}

function kubeconfig(server: string, token: string, context = "ci"): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "c", cluster: { server, "insecure-skip-tls-verify": true } }],
    users: [{ name: "u", user: { token } }],
    contexts: [{ name: context, context: { cluster: "c", user: "u" } }],
    "current-context": context,
  });
}

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

function noStack(t: { false(value: boolean, message?: string): void }, run: CommandResult): void {
  const output = run.stdout + run.stderr;
  t.false(/^\s+at /m.test(output), `a stack frame in:\n${output}`);
}

test("an unknown --log-level: a usage error naming the levels", async (t) => {
  const run = await digestpin("serve", "--log-level", "loud", "--policy", "examples/policy.yaml");
  t.is(run.exitCode, 2);
  t.true(
    run.stderr.startsWith(
      'digestpin serve: --log-level "loud" is not one of trace, debug, info, warn, error\n',
    ),
    run.stderr,
  );
  noStack(t, run);
});

test("a kubeconfig that is not YAML: which file and why, for serve and for the CLI", async (t) => {
  const bad = await file("broken-kubeconfig", "garbage: [\n");
  const serve = await digestpin("serve", "--kubeconfig", bad, "--policy-configmap", "ns/policy");
  t.is(serve.exitCode, 1);
  t.is(
    serve.stderr,
    `digestpin serve: cannot read kubeconfig ${bad}: deficient indentation (2:1)\n`,
  );
  noStack(t, serve);
  const approve = await digestpin("approve", "busybox:1.36", "--reason", "x", "--kubeconfig", bad);
  t.is(approve.exitCode, 2, "an error that stopped the command");
  t.regex(approve.stderr, new RegExp(`^digestpin approve: cannot read kubeconfig ${bad}: `));
  noStack(t, approve);
});

test("a kubeconfig without a current context", async (t) => {
  const empty = await file("empty-kubeconfig", "apiVersion: v1\nkind: Config\n");
  const run = await digestpin(
    "check",
    "-f",
    "examples/admissionreview-pod.json",
    "--kubeconfig",
    empty,
  );
  t.is(run.exitCode, 2, "an error, not a denial");
  t.regex(run.stderr, /names no cluster \(no current-context\); check its current-context/);
  noStack(t, run);
});

test("an API server that is not there: its URL and the context", async (t) => {
  const server = `https://127.0.0.1:${await freePort()}`;
  const config = await file("unreachable", kubeconfig(server, "x", "staging"));
  const serve = await digestpin("serve", "--kubeconfig", config, "--policy-configmap", "ns/policy");
  t.is(serve.exitCode, 1);
  t.is(
    serve.stderr,
    `digestpin serve: cannot reach the API server ${server} (kubeconfig context "staging") to ` +
      `read its version: connection refused. Check that the cluster is up and that ` +
      `--kubeconfig (or $KUBECONFIG) names it\n`,
  );
  noStack(t, serve);
  const manifest = await file(
    "pod.yaml",
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: web, image: busybox:1.36}]\n",
  );
  const check = await digestpin("check", "-f", manifest, "--kubeconfig", config);
  t.is(check.exitCode, 2, "an error, not a denial");
  t.regex(
    check.stderr,
    new RegExp(
      `cannot reach the API server ${server} \\(kubeconfig context "staging"\\) to read configmap digestpin-system/digestpin-policy: connection refused`,
    ),
  );
  noStack(t, check);
});

test("an API server that refuses the credentials", async (t) => {
  const config = await file("wrong-token", kubeconfig(cluster.url, "not-a-token"));
  const run = await digestpin("serve", "--kubeconfig", config, "--policy-configmap", "ns/policy");
  t.is(run.exitCode, 1);
  t.regex(
    run.stderr,
    new RegExp(
      `the API server ${cluster.url} \\(kubeconfig context "ci"\\) did not accept the credentials \\(401 Unauthorized\\)`,
    ),
  );
  noStack(t, run);
});

test("an invalid policy file at start-up: every issue with its line, then exit", async (t) => {
  const policy = await file(
    "policy.yaml",
    "apiVersion: digestpin.dev/v1alpha1\nkind: Policy\nmode: strict\n",
  );
  const run = await digestpin(
    "serve",
    "--policy",
    policy,
    "--port",
    "0",
    "--metrics-port",
    "0",
    "--host",
    "127.0.0.1",
    "--metrics-host",
    "127.0.0.1",
  );
  t.is(run.exitCode, 1);
  t.is(
    run.stderr,
    `digestpin serve: the policy is invalid; fix it and start again:\n  ${policy}:3:7: mode: "strict" is not one of enforce, warn, audit\n`,
  );
  noStack(t, run);
});
