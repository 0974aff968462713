import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { stringify } from "yaml";
import { loadKubeConfig } from "../../../src/kube/index.ts";
import { runCli } from "../../helpers/run-cli.ts";

// kubectl's conventions for the commands that talk to a cluster: $KUBECONFIG's files merged as
// kubectl merges them, --context, -n, --request-timeout, and one clear line when the API server
// cannot be reached (its URL and the context used).

const user = { name: "me", user: { token: "t" } };
const kubeconfig = (
  clusters: [string, string][],
  contexts: [string, string][],
  current?: string,
): string =>
  stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: clusters.map(([name, server]) => ({ name, cluster: { server } })),
    users: [user],
    contexts: contexts.map(([name, cluster]) => ({ name, context: { cluster, user: "me" } })),
    ...(current !== undefined && { "current-context": current }),
  });

async function files(t: { teardown(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), "digestpin-kubeconfig-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const a = join(dir, "a.yaml");
  const b = join(dir, "b.yaml");
  await writeFile(
    a,
    kubeconfig([["shared", "https://127.0.0.1:1"]], [["first", "shared"]], "first"),
  );
  await writeFile(
    b,
    kubeconfig(
      [
        ["shared", "https://shadowed.example:6443"],
        ["two", "https://127.0.0.1:2"],
      ],
      [
        ["first", "two"],
        ["second", "two"],
      ],
      "second",
    ),
  );
  return { dir, a, b };
}

test("several files merge as kubectl merges them: the first to name a thing wins", async (t) => {
  const { dir, a, b } = await files(t);
  const ab = loadKubeConfig({ kubeconfig: [a, join(dir, "missing.yaml"), b] });
  t.is(ab.getCurrentContext(), "first", "the first file's current-context");
  t.is(ab.getCurrentCluster()?.server, "https://127.0.0.1:1", "a's cluster, not b's");
  t.deepEqual(
    ab.getContexts().map((c) => [c.name, c.cluster]),
    [
      ["first", "shared"],
      ["second", "two"],
    ],
  );
  const ba = loadKubeConfig({ kubeconfig: [b, a] });
  t.is(ba.getCurrentContext(), "second");
  t.is(ba.getCluster("shared")?.server, "https://shadowed.example:6443");
  const chosen = loadKubeConfig({ kubeconfig: [a, b], context: "second" });
  t.is(chosen.getCurrentCluster()?.server, "https://127.0.0.1:2");
});

test("a context that is not there, or no file at all, is one clear error", async (t) => {
  const { dir, a, b } = await files(t);
  t.throws(() => loadKubeConfig({ kubeconfig: [a, b], context: "third" }), {
    message: `context "third" is not in kubeconfig ${a}:${b} (its contexts: first, second); check --context`,
  });
  const none = join(dir, "none.yaml");
  t.throws(() => loadKubeConfig({ kubeconfig: [none, join(dir, "nil.yaml")] }), {
    message: /^none of the kubeconfig files .* exists; check \$KUBECONFIG or give --kubeconfig$/,
  });
  const run = await runCli(["pins", "list", "--context", "third"], {
    KUBECONFIG: `${a}:${b}`,
    HOME: dir,
  });
  t.is(run.status, 2);
  t.is(
    run.stderr,
    `digestpin pins: context "third" is not in kubeconfig ${a}:${b} (its contexts: first, second); check --context\n`,
  );
});

test("an unreachable API server: one line naming its URL and the context used", async (t) => {
  const { dir, a, b } = await files(t);
  const run = await runCli(["pins", "list", "-n", "apps"], { KUBECONFIG: `${b}:${a}`, HOME: dir });
  t.is(run.status, 1);
  t.regex(
    run.stderr,
    /^digestpin pins list: cannot reach the API server https:\/\/127\.0\.0\.1:2 \(kubeconfig context "second"\) to [^\n]*connection refused[^\n]*\n$/,
  );
  const other = await runCli(["check", "-f", dir, "--context", "first"], {
    KUBECONFIG: `${b}:${a}`,
    HOME: dir,
  });
  t.is(other.status, 2);
  t.regex(other.stderr, /https:\/\/127\.0\.0\.1:2 \(kubeconfig context "first"\)/);
});

test("--request-timeout bounds each API request", async (t) => {
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    silent.close();
  });
  const { port } = silent.address() as { port: number };
  const { dir } = await files(t);
  const config = join(dir, "silent.yaml");
  await writeFile(
    config,
    kubeconfig([["s", `https://127.0.0.1:${port}`]], [["quiet", "s"]], "quiet"),
  );
  const started = Date.now();
  const run = await runCli(["pins", "list", "--kubeconfig", config, "--request-timeout", "1s"], {
    HOME: dir,
  });
  t.is(run.status, 1);
  t.regex(run.stderr, /\(kubeconfig context "quiet"\) to .*: no answer within the request timeout/);
  t.true(Date.now() - started < 10_000, "not retried past the budget");
  const bad = await runCli(["pins", "list", "--kubeconfig", config, "--request-timeout", "soon"], {
    HOME: dir,
  });
  t.is(bad.status, 2);
  t.regex(bad.stderr, /--request-timeout: "soon" is not a duration/);
});
