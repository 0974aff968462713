// Refreshes docs/walkthrough.md from real runs: runs the e2e tests it quotes with
// DIGESTPIN_E2E_TRANSCRIPTS set, then replaces each block between `<!-- e2e:ID -->` and
// `<!-- /e2e:ID -->` with what the tests recorded under ID.
//
//   node --import tsx test/e2e/walkthrough.ts
//
// Two things are rewritten so the page reads well and changes less: the testbed registry's
// random 127.0.0.1 port becomes 5000 (each test file has its own registry; another port would
// become 5001, and so on), and the body of its CA certificate in the policy becomes "…".
// Digests, times and messages are as printed.
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readTranscript, TRANSCRIPTS_ENV, type Block } from "../harness/e2e-shell.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DOC = join(ROOT, "docs/walkthrough.md");
const FILES = ["attack", "dry-run", "policy-edits"];

const dir = await mkdtemp(join(tmpdir(), "digestpin-walkthrough-"));
try {
  const ava = spawnSync(
    join(ROOT, "node_modules/.bin/ava"),
    ["--timeout=300s", ...FILES.map((name) => `test/e2e/${name}.test.ts`)],
    { cwd: ROOT, stdio: "inherit", env: { ...process.env, [TRANSCRIPTS_ENV]: dir } },
  );
  if (ava.status !== 0) throw new Error("the e2e tests failed; docs/walkthrough.md is unchanged");
  const blocks = new Map<string, string>();
  for (const name of FILES) {
    const ports = new Map<string, string>();
    for (const [id, block] of Object.entries(await readTranscript(dir, name)))
      blocks.set(id, tidy(render(block), ports));
  }
  const used = new Set<string>();
  const doc = (await readFile(DOC, "utf8")).replace(
    /<!-- e2e:([\w-]+) -->\n[\s\S]*?<!-- \/e2e:\1 -->/g,
    (_, id: string) => {
      const block = blocks.get(id);
      if (block === undefined)
        throw new Error(`docs/walkthrough.md quotes ${id}, which no test recorded`);
      used.add(id);
      return `<!-- e2e:${id} -->\n${block}<!-- /e2e:${id} -->`;
    },
  );
  await writeFile(DOC, doc);
  const unused = [...blocks.keys()].filter((id) => !used.has(id));
  console.log(
    `docs/walkthrough.md: ${used.size} blocks refreshed` +
      (unused.length > 0 ? `; recorded but not quoted: ${unused.join(", ")}` : ""),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}

/** A console session (`$ command` and its output) or a file, as Markdown. */
function render(block: Block): string {
  if (block.kind === "file") return "```yaml\n" + `# ${block.name}\n${block.text}` + "```\n";
  const sessions = block.runs.map((run) => `$ ${run.command}\n${run.output}`);
  return "```console\n" + sessions.join("\n").replace(/\n*$/, "\n") + "```\n";
}

/** Registry ports numbered from 5000 in order of appearance; CA certificate bodies cut. */
function tidy(text: string, ports: Map<string, string>): string {
  return text
    .replace(/127\.0\.0\.1:(\d{4,5})/g, (_, port: string) => {
      if (!ports.has(port)) ports.set(port, String(5000 + ports.size));
      return `127.0.0.1:${ports.get(port)!}`;
    })
    .replace(
      /( *)-----BEGIN CERTIFICATE-----\n[\s\S]*?-----END CERTIFICATE-----/g,
      (_, indent: string) =>
        `${indent}-----BEGIN CERTIFICATE-----\n${indent}…\n${indent}-----END CERTIFICATE-----`,
    );
}
