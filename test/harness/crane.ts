import { spawn } from "node:child_process";
import { tempDir, type Teardown } from "./lifecycle.ts";
import {
  pushImage,
  pushIndex,
  repush,
  type ImageOptions,
  type IndexOptions,
  type Pushed,
  type RunCrane,
} from "./crane-images.ts";
import type { LayerFiles } from "./tarball.ts";
import { toolPath } from "./tools.ts";

export type { ImageOptions, IndexOptions, MediaTypes, Pushed } from "./crane-images.ts";

/** What crane needs to know about a registry (a `Registry` from registry.ts is one). */
export interface CraneTarget {
  readonly host: string;
  readonly caFile: string;
  readonly users?: readonly CraneCredentials[];
}

export interface CraneCredentials {
  readonly username: string;
  readonly password: string;
}

/** A manifest as the registry serves it. */
export interface Manifest {
  readonly mediaType: string;
  readonly raw: string;
  readonly json: Record<string, unknown>;
}

/**
 * The real crane CLI, logged in to one registry (its own DOCKER_CONFIG) and trusting its test
 * CA (SSL_CERT_FILE). References are full: `${registry.host}/team/app:1.0`.
 */
export interface Crane {
  /** The environment crane runs with, for running it by hand. */
  readonly env: Readonly<Record<string, string>>;
  /** Runs `crane ARGS...`; resolves to its stdout, rejects with its stderr. */
  run(args: readonly string[], stdin?: string): Promise<string>;
  /** An image of `layers` random layers (default 1) for `platform` (default linux/amd64). */
  pushRandomImage(ref: string, options?: ImageOptions): Promise<Pushed>;
  /** An image of one layer holding exactly `files`. */
  pushFiles(ref: string, files: LayerFiles, options?: ImageOptions): Promise<Pushed>;
  /** A multi-platform index of random images, one per platform (at least two). */
  pushIndex(ref: string, platforms: readonly string[], options?: IndexOptions): Promise<Pushed>;
  /** Pushes new random content of the same kind under the tag `ref`: the attack. */
  repush(ref: string): Promise<Pushed>;
  /** `crane digest`: what the registry says `ref` is (for `platform`: that child's digest). */
  digest(ref: string, options?: { readonly platform?: string }): Promise<string>;
  manifest(ref: string): Promise<Manifest>;
}

export interface CraneOptions {
  /** Whom to log in as; default the registry's first user, anonymous if it has none. */
  readonly as?: CraneCredentials | "anonymous";
}

export async function createCrane(
  t: Teardown,
  target: CraneTarget,
  options: CraneOptions = {},
): Promise<Crane> {
  const command = await toolPath("crane");
  const dir = await tempDir(t, "crane");
  const env = { SSL_CERT_FILE: target.caFile, DOCKER_CONFIG: dir };
  const run: RunCrane = (args, stdin) => runCrane(command, env, args, stdin);
  const credentials = options.as ?? target.users?.[0] ?? "anonymous";
  if (credentials !== "anonymous") {
    const { username, password } = credentials;
    await run(["auth", "login", target.host, "-u", username, "--password-stdin"], password);
  }
  return {
    env,
    run,
    pushRandomImage: (ref, imageOptions) => pushImage(run, dir, ref, imageOptions),
    pushFiles: (ref, files, imageOptions) => pushImage(run, dir, ref, { ...imageOptions, files }),
    pushIndex: (ref, platforms, indexOptions) => pushIndex(run, dir, ref, platforms, indexOptions),
    repush: (ref) => repush(run, dir, ref),
    digest: async (ref, digestOptions = {}) => {
      const platform =
        digestOptions.platform === undefined ? [] : ["--platform", digestOptions.platform];
      return (await run(["digest", ref, ...platform])).trim();
    },
    manifest: async (ref) => {
      const raw = await run(["manifest", ref]);
      const json = JSON.parse(raw) as Record<string, unknown>;
      return { mediaType: typeof json.mediaType === "string" ? json.mediaType : "", raw, json };
    },
  };
}

function runCrane(
  command: string,
  env: Record<string, string>,
  args: readonly string[],
  stdin = "",
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(stdout).toString("utf8"));
      else {
        const message = Buffer.concat(stderr).toString("utf8").trim();
        reject(new Error(`crane ${args.join(" ")} exited ${String(code)}: ${message}`));
      }
    });
    // crane may exit before reading its (usually empty) stdin: EPIPE is not a failure, the
    // exit status says whether it worked.
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin);
  });
}
