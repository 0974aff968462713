import { mkdir, rename, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import test from "ava";
import { watchFiles } from "../../../src/policy/sources/file-watch.ts";
import { tempDir } from "../../harness/testbed.ts";
import { waitFor } from "../../harness/wait.ts";

// watchFiles on a real file system: which writes in the watched directory count as a change.

const OPTIONS = { debounceMs: 20, pollMs: 100 };

test("a file written beside the policy is no change; an edit of the policy is", async (t) => {
  const dir = await tempDir(t, "file-watch");
  const policy = join(dir, "policy.yaml");
  await writeFile(policy, "kind: Policy\n");
  let changes = 0;
  const stop = watchFiles([policy], () => changes++, OPTIONS);
  t.teardown(stop);
  await sleep(150); // the poll's first stamps

  for (let i = 0; i < 5; i++) {
    await writeFile(join(dir, "serve.log"), `line ${String(i)}\n`, { flag: "a" });
    await writeFile(join(dir, ".other.tmp"), String(i));
    await sleep(30);
  }
  await sleep(300); // past the debounce and two polls
  t.is(changes, 0, "writes of other files in the directory are not changes");

  await writeFile(policy, "kind: Policy\n# edited\n");
  await waitFor("the edit", () => changes > 0);
  t.true(changes > 0, "an edit of the policy file is a change");
});

test("a kubelet-style ..data symlink swap is a change", async (t) => {
  const dir = await tempDir(t, "file-watch-kubelet");
  // What kubelet's atomic writer lays out for a ConfigMap volume.
  await mkdir(join(dir, "..v1"));
  await writeFile(join(dir, "..v1", "policy.yaml"), "kind: Policy\n");
  await symlink("..v1", join(dir, "..data"));
  await symlink(join("..data", "policy.yaml"), join(dir, "policy.yaml"));
  let changes = 0;
  // Events only: a poll far beyond the test, so the symlink swap's events are what is seen.
  const stop = watchFiles([join(dir, "policy.yaml")], () => changes++, {
    debounceMs: 20,
    pollMs: 60_000,
  });
  t.teardown(stop);
  await sleep(50);

  await mkdir(join(dir, "..v2"));
  await writeFile(join(dir, "..v2", "policy.yaml"), "kind: Policy\n# v2\n");
  await symlink("..v2", join(dir, "..data_tmp"));
  await rename(join(dir, "..data_tmp"), join(dir, "..data"));
  await waitFor("the swap", () => changes > 0);
  t.true(changes > 0, "the ..data swap is a change");
});
