import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Where a harness function registers its clean-up: ava's `t`, or a plain object that collects
 * the functions (as a `make testbed-up` script does) and calls them later.
 */
export interface Teardown {
  teardown(fn: () => Promise<void> | void): void;
}

/** A fresh directory under the system temp dir, removed on teardown (kept when KEEP_TMP is set). */
export async function tempDir(t: Teardown, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `digestpin-${prefix}-`));
  if (process.env.KEEP_TMP === undefined)
    t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
