import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import fc from "fast-check";
import { stringify } from "yaml";
import { commands } from "../../src/cli/commands.ts";
import { runCli } from "../helpers/run-cli.ts";

// Every command driven with random flags, values and arguments: whatever it is given, it ends
// with exit status 0, 1 or 2 and one-line errors, never a stack trace or an "unexpected error".
// Nothing reaches the network: every registry named is 127.0.0.1:1 (nothing listens there), the
// kubeconfigs lead nowhere or to 127.0.0.1:1, and paths are inside a scratch directory (also the
// working directory, for relative ones).
// `serve` is left out: given valid flags it serves until a signal (test/unit/config.test.ts
// covers its flags).

const RUNS = 1200;
const dir = await mkdtemp(join(tmpdir(), "digestpin-cli-property-"));
const d = (c: string) => `sha256:${c.repeat(64)}`;
const REGISTRY = "127.0.0.1:1";

const policy = join(dir, "policy.yaml");
const pins = join(dir, "pins.yaml");
const manifests = join(dir, "manifests");
const badYaml = join(dir, "bad.yaml");
const unreachable = join(dir, "unreachable.kubeconfig");
const noContext = join(dir, "no-context.kubeconfig");
const home = join(dir, "home");

// Relative paths (a reference taken as a flag's value: `--out 127.0.0.1:1/x`) land in the
// scratch directory, never in the checkout.
const startDir = process.cwd();

test.before(async () => {
  process.chdir(dir);
  await mkdir(manifests, { recursive: true });
  await mkdir(home, { recursive: true });
  await writeFile(
    policy,
    `apiVersion: digestpin.dev/v1alpha1\nkind: Policy\nregistryUnavailable: use-pin\n` +
      `registries: [{host: "${REGISTRY}"}, {host: docker.io}]\n` +
      `pins:\n  ${REGISTRY}/team/app:1: ${d("a")}\n`,
  );
  await writeFile(
    pins,
    `apiVersion: digestpin.dev/v1alpha1\nkind: Pins\npins:\n  ${REGISTRY}/team/db:2: ${d("b")}\n`,
  );
  await writeFile(
    join(manifests, "pod.yaml"),
    `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n` +
      `    - {name: a, image: "${REGISTRY}/team/app:1"}\n    - {name: b, image: busybox:1.36}\n` +
      `    - {name: c, image: "quay.io/x/y:1"}\n    - {name: d, image: "Not:A:Ref"}\n`,
  );
  await writeFile(badYaml, "kind: Pod\nspec: [unclosed\n\t- x: {\n");
  const kubeconfig = (server: string, current: string) =>
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster: { server } }],
      users: [{ name: "u", user: { token: "t" } }],
      contexts: [{ name: "ctx", context: { cluster: "c", user: "u" } }],
      "current-context": current,
    });
  await writeFile(unreachable, kubeconfig(`https://${REGISTRY}`, "ctx"));
  await writeFile(noContext, kubeconfig(`https://${REGISTRY}`, ""));
  await cp(new URL("../../examples/policy.yaml", import.meta.url), join(dir, "example.yaml"));
});

test.after.always(async () => {
  process.chdir(startDir);
  await rm(dir, { recursive: true, force: true });
});

/** A stack frame as V8 prints them: "    at fn (file:line:col)" or "    at file:line:col". */
const STACK_FRAME = /^\s+at\s.*(?:\(.*:\d+:\d+\)|:\d+:\d+|\(native\)|\(<anonymous>\))\s*$/m;

/** The options a command's usage documents (as `digestpin completion` reads them). */
function optionsOf(usage: string): string[] {
  const found = usage.matchAll(/(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])(?![\w-])/g);
  return [...new Set([...found].map((m) => m[1] ?? ""))];
}

const PATH_FLAGS = new Set([
  "-f",
  "--filename",
  "--policy",
  "--pins",
  "--kubeconfig",
  "--ca-file",
  "--docker-config",
  "--out",
]);

const anyText = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.constantFrom("", "-", "--", "-x", "--nope", "=", "0", "-1", "1e9", "null", "\u0000"),
);

/** A path inside the scratch directory, or one of its files. */
const path = fc.oneof(
  fc.constantFrom(
    policy,
    pins,
    manifests,
    join(manifests, "pod.yaml"),
    badYaml,
    unreachable,
    noContext,
    join(dir, "example.yaml"),
    join(dir, "missing.yaml"),
    dir,
    "-",
  ),
  fc.string({ maxLength: 8 }).map((name) => join(dir, "random", name)),
);

/** Image references that never leave the machine: 127.0.0.1:1 or invalid ones. */
const reference = fc.oneof(
  fc.constantFrom(
    `${REGISTRY}/team/app:1`,
    `${REGISTRY}/team/db:2`,
    `${REGISTRY}/team/app:1@${d("c")}`,
    `${REGISTRY}/x@${d("a")}`,
    "Not:A:Ref",
    "UPPER",
    "",
  ),
  fc.string({ maxLength: 10 }).map((tail) => `${REGISTRY}/${tail}`),
);

function valueFor(flag: string): fc.Arbitrary<string> {
  if (PATH_FLAGS.has(flag)) return path;
  switch (flag) {
    case "-o":
    case "--output":
      return fc.oneof(fc.constantFrom("table", "json", "yaml", "name", "junit", "sarif"), anyText);
    case "--timeout":
    case "--request-timeout":
    case "--max-download":
      return fc.oneof(
        fc.constantFrom("1s", "0", "10ms", "2", "1m30s", "5MB", "-1s", "1e99h"),
        anyText,
      );
    case "--digest":
      return fc.oneof(fc.constantFrom(d("a"), d("f"), "sha256:short"), anyText);
    case "--insecure-registry":
    case "--host":
      return fc.oneof(fc.constantFrom(REGISTRY, "localhost", "::1"), anyText);
    case "--namespace":
    case "-n":
    case "--context":
    case "--configmap":
    case "--pin-store":
      return fc.oneof(fc.constantFrom("digestpin-system", "ctx", "Bad_Name"), anyText);
    default:
      return anyText;
  }
}

/** One argument token group: a flag (maybe with a value), a reference, a word, or noise. */
function token(flags: readonly string[], words: readonly string[]): fc.Arbitrary<string[]> {
  const flag = fc.constantFrom(...flags).chain((f) =>
    fc.oneof(
      fc.constant<string[]>([f]),
      valueFor(f).map((v): string[] => [f, v]),
      valueFor(f).map((v): string[] => (f.startsWith("--") ? [`${f}=${v}`] : [f, v])),
    ),
  );
  const choices: fc.Arbitrary<string[]>[] = [
    flag,
    flag,
    flag,
    reference.map((r) => [r]),
    anyText.map((t) => [t]),
  ];
  if (words.length > 0) choices.push(fc.constantFrom(...words).map((w) => [w]));
  return fc.oneof(...choices);
}

const SUBCOMMANDS: Record<string, string[]> = {
  pins: ["list", "remove", "migrate"],
  policy: ["validate"],
  completion: ["bash", "zsh", "fish"],
};

const driven = commands.filter((c) => c.name !== "serve");

/** Arguments each command accepts as they are: plausible runs, then changed by random tokens. */
const PLAUSIBLE: Record<string, () => string[]> = {
  parse: () => [`${REGISTRY}/team/app:1`],
  resolve: () => [`${REGISTRY}/team/app:1`, "--timeout", "2s"],
  policy: () => ["validate", policy, pins],
  pin: () => [`${REGISTRY}/team/new:1`, "--policy", policy, "--reason", "r", "--dry-run"],
  diff: () => [`${REGISTRY}/team/app:1`, "--policy", policy, "--pins", pins],
  approve: () => [
    `${REGISTRY}/team/app:1`,
    "--digest",
    d("c"),
    "--policy",
    policy,
    "--reason",
    "r",
  ],
  pins: () => ["list", "--policy", policy, "--pins", pins],
  check: () => ["-f", manifests, "--policy", policy],
  certs: () => ["--service", "s", "--namespace", "n", "--out", join(dir, "certs"), "--force"],
  version: () => [],
  completion: () => ["bash"],
};

const env = fc.constantFrom<Record<string, string>>(
  {},
  { KUBECONFIG: `${join(dir, "missing")}:${noContext}` },
  { KUBECONFIG: unreachable },
  { KUBECONFIG: join(dir, "missing.yaml") },
);
const stdinText = fc.constantFrom(
  "",
  "kind: Pod\nspec: {containers: [{name: a, image: busybox}]}\n",
  "{{{",
);

/** Any command, a random first word and up to 6 random tokens (mostly usage errors). */
const randomInvocation = fc.constantFrom(...driven).chain((command) => {
  const flags = [...optionsOf(command.usage), "--help", "--version", "--bogus"];
  const words = SUBCOMMANDS[command.name] ?? [];
  const start = words.length > 0 ? fc.oneof(fc.constantFrom(...words), anyText) : anyText;
  return fc.tuple(
    fc.constant(command.name),
    fc.option(start, { nil: undefined }).map((first) => (first === undefined ? [] : [first])),
    fc.array(token(flags, words), { maxLength: 6 }),
    stdinText,
    env,
  );
});

/** Any command run as it is meant to be, with up to 3 random tokens added. */
const plausibleInvocation = fc.constantFrom(...driven).chain((command) => {
  const flags = [...optionsOf(command.usage), "--bogus"];
  const words = SUBCOMMANDS[command.name] ?? [];
  return fc.tuple(
    fc.constant(command.name),
    fc.constant((PLAUSIBLE[command.name] ?? (() => []))()),
    fc.array(token(flags, words), { maxLength: 3 }),
    stdinText,
    env,
  );
});

test(`any command with any flags: exit 0, 1 or 2, and no stack trace (${String(RUNS)} runs)`, async (t) => {
  t.timeout(600_000);
  const seenStatus = new Set<number>();
  const counts = new Map<string, number>();
  const seenCommands = new Set<string>();
  await fc.assert(
    fc.asyncProperty(fc.oneof(randomInvocation, plausibleInvocation), async (drawn) => {
      const [name, start, tokens, stdin, variables] = drawn;
      const args = [name, ...start, ...tokens.flat()];
      const run = await runCli(
        args,
        { HOME: home, USER: "prop", HOSTNAME: "test", ...variables },
        stdin,
      );
      const output = `${run.stdout}\n${run.stderr}`;
      seenStatus.add(run.status);
      const key = `${name} ${String(run.status)}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      seenCommands.add(name);
      if (![0, 1, 2].includes(run.status))
        throw new Error(`exit ${String(run.status)} for ${JSON.stringify(args)}`);
      if (STACK_FRAME.test(run.stderr) || STACK_FRAME.test(run.stdout))
        throw new Error(`a stack frame for ${JSON.stringify(args)}:\n${output}`);
      if (output.includes("please report it"))
        throw new Error(`an unexpected error for ${JSON.stringify(args)}:\n${run.stderr}`);
    }),
    { numRuns: RUNS, endOnFailure: true, includeErrorInReport: true },
  );
  t.log(
    [...counts]
      .toSorted()
      .map(([key, n]) => `${key}: ${String(n)}`)
      .join(", "),
  );
  t.deepEqual([...seenStatus].toSorted(), [0, 1, 2], "every status was seen");
  t.is(seenCommands.size, driven.length, "every command was driven");
});
