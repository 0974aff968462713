import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Crane } from "./crane.ts";
import { layerTar, type LayerEntry } from "./layer-tar.ts";
import { tempDir, type Teardown } from "./lifecycle.ts";
import type { LayerFiles } from "./tarball.ts";

/** Debian's busybox-static (scripts/node-packages.sh installs it): one static executable. */
const BUSYBOX = "/bin/busybox";

/** An image pushed for the node, and what it runs. */
export interface RunnableImage {
  readonly ref: string;
  readonly digest: string;
}

export interface RunnableOptions {
  /** More layers on top of the busybox one, each holding exactly these files. */
  readonly layers?: readonly LayerFiles[];
  /** Default: sleep (about 68 years), so that the container stays Running. */
  readonly entrypoint?: readonly string[];
}

/**
 * Images a node can run, pushed with crane: a layer with Debian's static busybox as
 * /bin/busybox, then `options.layers`. Sleeping is all they do; what matters is which bytes the
 * node pulled.
 */
export interface NodeImages {
  push(ref: string, options?: RunnableOptions): Promise<RunnableImage>;
}

export async function nodeImages(t: Teardown, crane: Crane): Promise<NodeImages> {
  const dir = await tempDir(t, "node-images");
  const busybox = await readFile(BUSYBOX).catch(() => {
    throw new Error(`${BUSYBOX} is missing: run scripts/node-packages.sh (make cluster does)`);
  });
  const writeLayer = async (entries: readonly LayerEntry[]): Promise<string> => {
    const file = join(dir, `layer-${randomBytes(8).toString("hex")}.tar`);
    await writeFile(file, layerTar(entries));
    return file;
  };
  const base = await writeLayer([
    { type: "dir", path: "bin", mode: 0o755 },
    { path: "bin/busybox", content: busybox, mode: 0o755 },
    { type: "dir", path: "tmp", mode: 0o1777 },
  ]);
  return {
    async push(ref, options = {}) {
      const layers = [base];
      for (const files of options.layers ?? []) {
        layers.push(
          await writeLayer(Object.entries(files).map(([path, content]) => ({ path, content }))),
        );
      }
      const entrypoint = options.entrypoint ?? ["/bin/busybox", "sleep", "2147483647"];
      const repository = ref.slice(0, ref.lastIndexOf(":"));
      const scratch = `${repository}:digestpin-build-${randomBytes(6).toString("hex")}`;
      await crane.run([
        "append",
        ...layers.flatMap((file) => ["-f", file]),
        "-t",
        scratch,
        "--oci-empty-base",
      ]);
      const output = await crane.run([
        "mutate",
        scratch,
        "--set-platform",
        "linux/amd64",
        `--entrypoint=${entrypoint.join(",")}`,
        "-t",
        ref,
      ]);
      await crane.run(["delete", scratch]).catch(() => undefined);
      const digest = /sha256:[a-f0-9]{64}/.exec(output)?.[0];
      if (digest === undefined) throw new Error(`crane mutate printed no digest: ${output}`);
      return { ref, digest };
    },
  };
}
