import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { teardownList, type SuiteHooks } from "../../harness/kube-shared.ts";
import { createCrane, startRegistry, type Crane, type Registry } from "../../harness/testbed.ts";
import { runCli, type CliRun } from "../../helpers/run-cli.ts";

/** One registry (no auth), crane and a scratch directory for every test of a file. */
export interface ReviewTestbed {
  readonly registry: Registry;
  readonly crane: Crane;
  readonly dir: string;
}

export function reviewTestbed(test: SuiteHooks): () => ReviewTestbed {
  const suite = teardownList();
  let shared: ReviewTestbed | undefined;
  test.before(async () => {
    const registry = await startRegistry(suite, { auth: "none" });
    const crane = await createCrane(suite, registry);
    const dir = await mkdtemp(join(tmpdir(), "digestpin-review-"));
    suite.teardown(() => rm(dir, { recursive: true, force: true }));
    shared = { registry, crane, dir };
  });
  test.after.always(() => suite.run());
  return () => {
    if (shared === undefined) throw new Error("the testbed did not start");
    return shared;
  };
}

let files = 0;

/** A policy file pinning `pins` (key → digest), with `settings` lines before the pins. */
export async function policyFile(
  bed: ReviewTestbed,
  pins: Readonly<Record<string, string>>,
  settings = "",
): Promise<string> {
  const file = join(bed.dir, `policy-${++files}.yaml`);
  const entries = Object.entries(pins).map(([key, digest]) => `  ${key}: ${digest}\n`);
  await writeFile(
    file,
    `apiVersion: digestpin.dev/v1alpha1\nkind: Policy\n${settings}pins:\n${entries.join("") || "  {}\n"}`,
  );
  return file;
}

/** Runs `digestpin ARGS… --policy FILE --ca-file REGISTRY-CA` as user tester on host ci. */
export function digestpin(
  bed: ReviewTestbed,
  policy: string,
  args: readonly string[],
): Promise<CliRun> {
  return runCli([...args, "--policy", policy, "--ca-file", bed.registry.caFile], {
    HOME: bed.dir,
    USER: "tester",
    HOSTNAME: "ci",
  });
}

/** The lines of the `files of PLATFORM:` block, without its title. */
export function fileLines(stdout: string, platform = "linux/amd64"): string[] {
  const block = stdout.split("\n\n").find((part) => part.startsWith(`files of ${platform}:`));
  return (block ?? "").trimEnd().split("\n").slice(1);
}

/** The blob GETs digestpin made (from the registry's access log). */
export async function blobReads(bed: ReviewTestbed, repository?: string): Promise<string[]> {
  return (await bed.registry.accessLog())
    .filter((e) => e.method === "GET" && e.userAgent === "digestpin" && e.path.includes("/blobs/"))
    .filter((e) => repository === undefined || e.path.startsWith(`/v2/${repository}/blobs/`))
    .map((e) => e.path.slice(e.path.lastIndexOf("/") + 1));
}
