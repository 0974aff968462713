import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Crane } from "./crane.ts";
import { tempDir, type Teardown } from "./lifecycle.ts";
import { runCommand } from "./run-command.ts";
import { toolPath } from "./tools.ts";

/** `cosign` is v2 (signatures in the `.sig` tag), `cosign3` is v3 (sigstore bundles). */
export type CosignTool = "cosign" | "cosign3";

export interface CosignKeyPair {
  /** The encrypted private key file (password COSIGN_PASSWORD). */
  readonly privateKeyFile: string;
  readonly publicKeyFile: string;
  readonly publicKeyPem: string;
}

/**
 * The real cosign CLI, using crane's registry login (DOCKER_CONFIG) and test CA
 * (SSL_CERT_FILE), with a HOME of its own and no transparency log: it signs offline.
 */
export interface Cosign {
  readonly tool: CosignTool;
  readonly env: Readonly<Record<string, string>>;
  /** Runs `cosign ARGS…`; resolves to its stdout, rejects with its stderr. */
  run(args: readonly string[], options?: { cwd?: string }): Promise<string>;
  /** `cosign generate-key-pair` into a fresh directory. */
  generateKeyPair(): Promise<CosignKeyPair>;
  /** `cosign import-key-pair` of a PEM private key (RSA, ECDSA or Ed25519). */
  importKeyPair(privatePem: string): Promise<CosignKeyPair>;
  /** `cosign sign --key` of `ref` (`host/repo@sha256:…`), nothing uploaded to Rekor. */
  sign(ref: string, key: CosignKeyPair, extraArgs?: readonly string[]): Promise<void>;
}

export const COSIGN_PASSWORD = "digestpin-test-password";

/**
 * Signing without Rekor: v2 takes --tlog-upload=false; v3 refuses it unless the signing config
 * (fetched from the public TUF root by default) is turned off as well.
 */
const OFFLINE: Readonly<Record<CosignTool, readonly string[]>> = {
  cosign: ["--tlog-upload=false"],
  cosign3: ["--use-signing-config=false", "--tlog-upload=false"],
};

export async function createCosign(t: Teardown, crane: Crane, tool: CosignTool): Promise<Cosign> {
  const command = await toolPath(tool);
  const home = await tempDir(t, tool);
  const env = {
    ...crane.env,
    HOME: home,
    COSIGN_PASSWORD,
    COSIGN_YES: "true",
  };
  let pairs = 0;
  const run = async (args: readonly string[], options: { cwd?: string } = {}) => {
    const result = await runCommand(command, args, { env, cwd: options.cwd ?? home });
    if (result.exitCode !== 0) {
      throw new Error(
        `${tool} ${args.join(" ")} exited ${result.exitCode}: ${result.stderr.trim()}`,
      );
    }
    return result.stdout;
  };
  const pairIn = async (dir: string, prefix: string): Promise<CosignKeyPair> => ({
    privateKeyFile: join(dir, `${prefix}.key`),
    publicKeyFile: join(dir, `${prefix}.pub`),
    publicKeyPem: await readFile(join(dir, `${prefix}.pub`), "utf8"),
  });
  return {
    tool,
    env,
    run,
    async generateKeyPair() {
      const prefix = `generated-${++pairs}`;
      await run(["generate-key-pair", "--output-key-prefix", prefix]);
      return pairIn(home, prefix);
    },
    async importKeyPair(privatePem) {
      const prefix = `imported-${++pairs}`;
      const source = join(home, `${prefix}-source.pem`);
      await writeFile(source, privatePem, { mode: 0o600 });
      await run(["import-key-pair", "--key", source, "--output-key-prefix", prefix]);
      return pairIn(home, prefix);
    },
    async sign(ref, key, extraArgs = []) {
      await run(["sign", "--key", key.privateKeyFile, ...OFFLINE[tool], ...extraArgs, ref]);
    },
  };
}

/**
 * Pushes `manifest` (exact bytes) with `blobs` to `ref` through `crane push` of an OCI layout:
 * how a test rewrites what cosign wrote (a tampered payload, a forged bundle). A manifest with a
 * `subject` is also listed in the subject's referrers tag, as crane does for any push.
 */
export async function pushRaw(
  t: Teardown,
  crane: Crane,
  ref: string,
  manifest: Buffer,
  blobs: readonly Buffer[],
): Promise<string> {
  const dir = await tempDir(t, "layout");
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  for (const blob of [manifest, ...blobs]) {
    await writeFile(join(dir, "blobs", "sha256", sha256Hex(blob)), blob);
  }
  const mediaType = (JSON.parse(manifest.toString("utf8")) as { mediaType?: string }).mediaType;
  const digest = `sha256:${sha256Hex(manifest)}`;
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await writeFile(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [{ mediaType, digest, size: manifest.length }],
    }),
  );
  await crane.run(["push", dir, ref]);
  return digest;
}

function sha256Hex(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}
