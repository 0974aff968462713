import { spawn } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ControlPlane } from "./kube.ts";
import { tempDir, type Teardown } from "./lifecycle.ts";
import { toolPath } from "./tools.ts";

const CLI = fileURLToPath(new URL("../../src/cli.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");

/**
 * Where transcripts go: `DIGESTPIN_E2E_TRANSCRIPTS=DIR` makes the e2e tests write what they ran
 * and what it printed (test/e2e/walkthrough.ts pastes them into docs/walkthrough.md).
 */
export const TRANSCRIPTS_ENV = "DIGESTPIN_E2E_TRANSCRIPTS";

/** A command as a person would type it, and everything it printed (stdout and stderr, in order). */
export interface Run {
  readonly command: string;
  readonly output: string;
  readonly exitCode: number;
}

/**
 * A terminal in a temp dir: kubectl against the control plane and the digestpin CLI (current
 * sources, run as a separate process) as user `alice` on host `laptop`. Files written with
 * `write` are what `-f NAME` reads.
 */
export interface Shell {
  readonly dir: string;
  kubectl(
    args: readonly string[],
    options?: { readonly input?: string; readonly env?: Record<string, string> },
  ): Promise<Run>;
  digestpin(args: readonly string[]): Promise<Run>;
  write(name: string, text: string): Promise<void>;
  read(name: string): Promise<string>;
}

export async function createShell(t: Teardown, cluster: ControlPlane): Promise<Shell> {
  const dir = await tempDir(t, "shell");
  const env = {
    KUBECONFIG: cluster.kubeconfigPath,
    KUBECACHEDIR: join(cluster.dir, "kubectl-cache"),
    USER: "alice",
    HOSTNAME: "laptop",
    HOME: dir,
  };
  const kubectl = await toolPath("kubectl");
  return {
    dir,
    kubectl: (args, options = {}) =>
      runCombined(kubectl, args, `kubectl ${shellWords(args)}`, {
        cwd: dir,
        env: { ...env, ...options.env },
        ...(options.input !== undefined && { input: options.input }),
      }),
    digestpin: (args) =>
      runCombined(
        process.execPath,
        [`--import=${TSX}`, CLI, ...args],
        `digestpin ${shellWords(args)}`,
        {
          cwd: dir,
          env,
        },
      ),
    write: (name, text) => writeFile(join(dir, name), text),
    read: (name) => readFile(join(dir, name), "utf8"),
  };
}

/** Runs a program with stdout and stderr on one pipe, so the output reads as on a terminal. */
function runCombined(
  command: string,
  args: readonly string[],
  shown: string,
  options: { cwd: string; env: Record<string, string>; input?: string },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", 'exec "$0" "$@" 2>&1', command, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["pipe", "pipe", "inherit"],
      timeout: 120_000,
    });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      resolve({
        command: shown,
        output: Buffer.concat(chunks).toString("utf8"),
        exitCode: code ?? 128,
      });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

/** Arguments as a shell would need them: plain words bare, anything else single-quoted. */
export function shellWords(args: readonly string[]): string {
  return args
    .map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`))
    .join(" ");
}

/** One piece of a walkthrough: a console session or a file's content. */
export type Block =
  | { readonly kind: "console"; readonly runs: readonly Run[] }
  | { readonly kind: "file"; readonly name: string; readonly text: string };

/**
 * Named transcript blocks of one test file, written to `$DIGESTPIN_E2E_TRANSCRIPTS/NAME.json`
 * by `save()`; without that variable nothing is kept.
 */
export class Transcript {
  readonly #name: string;
  readonly #blocks: Record<string, Block> = {};

  constructor(name: string) {
    this.#name = name;
  }

  get enabled(): boolean {
    return (process.env[TRANSCRIPTS_ENV] ?? "") !== "";
  }

  console(id: string, ...runs: Run[]): void {
    if (this.enabled) this.#blocks[id] = { kind: "console", runs };
  }

  file(id: string, name: string, text: string): void {
    if (this.enabled) this.#blocks[id] = { kind: "file", name, text };
  }

  async save(): Promise<void> {
    const dir = process.env[TRANSCRIPTS_ENV] ?? "";
    if (dir === "") return;
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${this.#name}.json`), JSON.stringify(this.#blocks, null, 2));
  }
}

/** The blocks saved by `Transcript.save()` for `name`. */
export async function readTranscript(dir: string, name: string): Promise<Record<string, Block>> {
  return JSON.parse(await readFile(join(dir, `${name}.json`), "utf8")) as Record<string, Block>;
}
