import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { runCli } from "../../helpers/run-cli.ts";

// `digestpin completion bash|zsh|fish`: scripts made from the commands' own usage texts; the
// bash one run by bash as its completion would be.

async function bashComplete(t: { teardown(fn: () => Promise<void>): void }, words: string[]) {
  const dir = await mkdtemp(join(tmpdir(), "digestpin-completion-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const script = join(dir, "digestpin.bash");
  await writeFile(script, (await runCli(["completion", "bash"])).stdout);
  const array = words.map((w) => `'${w}'`).join(" ");
  const out = execFileSync(
    "bash",
    [
      "-c",
      `source "$1"; COMP_WORDS=(${array}); COMP_CWORD=${String(words.length - 1)}; _digestpin; printf '%s\\n' "\${COMPREPLY[@]}"`,
      "bash",
      script,
    ],
    { encoding: "utf8", cwd: dir },
  );
  return out.split("\n").filter((line) => line !== "");
}

test("bash: commands, subcommands, options and -o formats complete", async (t) => {
  t.deepEqual(await bashComplete(t, ["digestpin", "pi"]), ["pin", "pins"]);
  t.deepEqual(await bashComplete(t, ["digestpin", "pins", "m"]), ["migrate"]);
  t.deepEqual(await bashComplete(t, ["digestpin", "check", "--fa"]), ["--fail-on-unreachable"]);
  t.deepEqual(await bashComplete(t, ["digestpin", "check", "-o", "s"]), ["sarif"]);
  t.deepEqual(await bashComplete(t, ["digestpin", "completion", "z"]), ["zsh"]);
  t.true((await bashComplete(t, ["digestpin", "pin", "--"])).includes("--context"));
});

test("zsh and fish scripts; an unknown shell is a usage error", async (t) => {
  const zsh = await runCli(["completion", "zsh"]);
  t.is(zsh.status, 0);
  t.regex(zsh.stdout, /bashcompinit/);
  t.regex(zsh.stdout, /complete -o default -F _digestpin digestpin/);
  const fish = await runCli(["completion", "fish"]);
  t.is(fish.status, 0);
  t.regex(fish.stdout, /complete -c \$cmd -n __fish_use_subcommand -a check -d 'Check manifests/);
  t.regex(
    fish.stdout,
    /complete -c \$cmd -n "__fish_seen_subcommand_from check" -s o -r -a "table json yaml name junit sarif"/,
  );
  const bad = await runCli(["completion", "tcsh"]);
  t.is(bad.status, 2);
  t.regex(bad.stderr, /unknown shell "tcsh"/);
  t.is((await runCli(["completion"])).status, 2);
});
