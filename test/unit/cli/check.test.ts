import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { runCli } from "../../helpers/run-cli.ts";

// `digestpin check` with decisions that need no registry: digests, unpinned tags under
// unpinned: deny, exemptions, registries not allowed and invalid references.

const d = (c: string) => `sha256:${c.repeat(64)}`;
const POLICY = `apiVersion: digestpin.dev/v1alpha1
kind: Policy
registries: [{host: docker.io}, {host: ghcr.io}]
exempt: {namespaces: [kube-system]}
pins:
  ghcr.io/acme/api:v1: ${d("a")}
`;

async function workspace(
  t: { teardown(fn: () => Promise<void>): void },
  files: Record<string, string>,
) {
  const dir = await mkdtemp(join(tmpdir(), "digestpin-check-unit-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries({ "policy.yaml": POLICY, ...files })) {
    await writeFile(join(dir, name), text);
  }
  return dir;
}

test("every decision in a table; exit 1 on a denial", async (t) => {
  const dir = await workspace(t, {
    "pods.yaml": `apiVersion: v1
kind: Pod
metadata: {name: a, namespace: web}
spec:
  containers:
    - {name: pinned, image: "ghcr.io/acme/api@${d("a")}"}
    - {name: wrong, image: "ghcr.io/acme/api:v1@${d("b")}"}
    - {name: unpinned, image: busybox:1.36}
    - {name: elsewhere, image: quay.io/x/y:1}
    - {name: broken, image: "Not:A:Ref"}
---
apiVersion: v1
kind: Pod
metadata: {name: system, namespace: kube-system}
spec: {containers: [{name: c, image: busybox}]}
`,
  });
  const run = await runCli([
    "check",
    "-f",
    join(dir, "pods.yaml"),
    "--policy",
    join(dir, "policy.yaml"),
  ]);
  t.is(run.status, 1);
  const rows = run.lines.slice(1, 7).map((line) => line.split(/\s{2,}/).slice(1));
  t.deepEqual(rows, [
    ["Pod/web/a", "containers[pinned]", `ghcr.io/acme/api@${d("a")}`, "allow", "digest-known"],
    ["Pod/web/a", "containers[wrong]", `ghcr.io/acme/api:v1@${d("b")}`, "deny", "digest-mismatch"],
    ["Pod/web/a", "containers[unpinned]", "busybox:1.36", "deny", "unpinned"],
    ["Pod/web/a", "containers[elsewhere]", "quay.io/x/y:1", "deny", "registry-not-allowed"],
    ["Pod/web/a", "containers[broken]", "Not:A:Ref", "deny", "invalid-reference"],
    ["Pod/kube-system/system", "containers[c]", "busybox", "allow", "exempt-namespace"],
  ]);
  t.regex(
    run.stdout,
    /containers\[unpinned\]: image "busybox:1.36": docker.io\/library\/busybox:1.36 is not pinned/,
  );
  t.regex(run.stderr, /6 images: 4 denied, 0 rewritten to a digest, 2 admitted unchanged/);
});

test("mode warn admits what it would deny: exit 0, the reason says so", async (t) => {
  const dir = await workspace(t, {
    "pod.json": JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [
        {
          kind: "Pod",
          metadata: { name: "p" },
          spec: { containers: [{ name: "c", image: "busybox:1" }] },
        },
      ],
    }),
  });
  await writeFile(join(dir, "policy.yaml"), POLICY.replace("pins:", "mode: warn\npins:"));
  const run = await runCli(["check", "-f", dir, "--policy", join(dir, "policy.yaml")]);
  t.is(run.status, 0, run.stderr);
  t.regex(run.stdout, /Pod\/p\s+containers\[c\]\s+busybox:1\s+allow\s+unpinned \(would deny\)/);
});

test("unreadable manifests stop the check (exit 2), naming the line", async (t) => {
  const dir = await workspace(t, { "bad.yaml": "kind: Pod\nspec: [unclosed\n" });
  const run = await runCli([
    "check",
    "-f",
    join(dir, "bad.yaml"),
    "--policy",
    join(dir, "policy.yaml"),
  ]);
  t.is(run.status, 2, "an error, not a denial");
  t.regex(run.stderr, /bad\.yaml:\d+:\d+: /);
});

test("an invalid policy is reported with its issues; no manifests is a usage error", async (t) => {
  const dir = await workspace(t, { "p.yaml": "kind: Pod\n" });
  await writeFile(
    join(dir, "policy.yaml"),
    "apiVersion: digestpin.dev/v1alpha1\nkind: Policy\nmode: strict\n",
  );
  const run = await runCli([
    "check",
    "-f",
    join(dir, "p.yaml"),
    "--policy",
    join(dir, "policy.yaml"),
  ]);
  t.is(run.status, 2, "an error, not a denial");
  t.regex(
    run.stderr,
    /the policy is invalid; fix it first:\n {2}.*policy\.yaml:3:7: mode: "strict" is not one of/,
  );
  t.is((await runCli(["check", "--policy", join(dir, "policy.yaml")])).status, 2);
});
