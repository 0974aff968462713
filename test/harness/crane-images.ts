import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tarball, type LayerFiles } from "./tarball.ts";

/** `oci`: OCI image manifest / index; `docker`: Docker v2 schema 2 manifest / manifest list. */
export type MediaTypes = "oci" | "docker";

export interface ImageOptions {
  readonly mediaType?: MediaTypes;
  /** Number of random layers (default 1); ignored when `files` is given. */
  readonly layers?: number;
  /** `os/arch[/variant]` in the image config (default linux/amd64). */
  readonly platform?: string;
  /** The content of a single layer, instead of random layers. */
  readonly files?: LayerFiles;
}

export interface IndexOptions {
  readonly mediaType?: MediaTypes;
  readonly layers?: number;
}

/** What was pushed under a tag. */
export interface Pushed {
  readonly ref: string;
  readonly digest: string;
  readonly mediaType: string;
  /** For an index: each platform's image digest, in the order given. */
  readonly manifests: readonly { readonly platform: string; readonly digest: string }[];
}

export type RunCrane = (args: readonly string[], stdin?: string) => Promise<string>;

const MEDIA_TYPES = {
  oci: {
    image: "application/vnd.oci.image.manifest.v1+json",
    index: "application/vnd.oci.image.index.v1+json",
  },
  docker: {
    image: "application/vnd.docker.distribution.manifest.v2+json",
    index: "application/vnd.docker.distribution.manifest.list.v2+json",
  },
} as const;

export async function pushImage(
  run: RunCrane,
  dir: string,
  ref: string,
  options: ImageOptions = {},
): Promise<Pushed> {
  const mediaType = options.mediaType ?? "oci";
  const platform = options.platform ?? "linux/amd64";
  const layers = options.files === undefined ? randomLayers(options.layers ?? 1) : [options.files];
  const digest = await buildImage(run, dir, ref, layers, mediaType, platform);
  return { ref, digest, mediaType: MEDIA_TYPES[mediaType].image, manifests: [] };
}

export async function pushIndex(
  run: RunCrane,
  dir: string,
  ref: string,
  platforms: readonly string[],
  options: IndexOptions = {},
): Promise<Pushed> {
  if (platforms.length < 2) throw new Error("an index needs at least two platforms");
  const mediaType = options.mediaType ?? "oci";
  const { repository } = splitReference(ref);
  const manifests = [];
  for (const platform of platforms) {
    const layers = randomLayers(options.layers ?? 1);
    const digest = await buildImage(run, dir, repository, layers, mediaType, platform);
    manifests.push({ platform, digest });
  }
  const children = manifests.flatMap((m) => ["-m", `${repository}@${m.digest}`]);
  const base = mediaType === "docker" ? ["--docker-empty-base"] : [];
  const output = await run(["index", "append", ...children, "-t", ref, ...base]);
  return { ref, digest: digestOf(output), mediaType: MEDIA_TYPES[mediaType].index, manifests };
}

/** New random content of the same kind (media types, platforms, layer count) under `ref`. */
export async function repush(run: RunCrane, dir: string, ref: string): Promise<Pushed> {
  const manifest = JSON.parse(await run(["manifest", ref])) as {
    mediaType?: string;
    manifests?: { platform?: { os: string; architecture: string; variant?: string } }[];
    layers?: unknown[];
  };
  const mediaType: MediaTypes = manifest.mediaType?.includes("docker") ? "docker" : "oci";
  if (manifest.manifests !== undefined) {
    const platforms = manifest.manifests.map(({ platform: p }) =>
      p === undefined
        ? "linux/amd64"
        : [p.os, p.architecture, p.variant ?? ""].join("/").replace(/\/$/, ""),
    );
    return pushIndex(run, dir, ref, platforms, { mediaType });
  }
  const config = JSON.parse(await run(["config", ref])) as { os?: string; architecture?: string };
  const platform = `${config.os ?? "linux"}/${config.architecture ?? "amd64"}`;
  return pushImage(run, dir, ref, { mediaType, platform, layers: manifest.layers?.length ?? 1 });
}

/**
 * Pushes an image of `layers` and resolves to its digest: tagged `target` when that has a tag,
 * else by digest into the repository. It is built under a scratch tag (crane append needs one)
 * that is deleted afterwards, so `target`'s tag moves once, straight to the final image.
 */
async function buildImage(
  run: RunCrane,
  dir: string,
  target: string,
  layers: readonly LayerFiles[],
  mediaType: MediaTypes,
  platform: string,
): Promise<string> {
  const { repository, tag } = splitReference(target);
  const files: string[] = [];
  for (const layer of layers) {
    const file = join(dir, `layer-${randomBytes(8).toString("hex")}.tar`);
    await writeFile(file, tarball(layer));
    files.push(file);
  }
  const scratch = `${repository}:digestpin-build-${randomBytes(6).toString("hex")}`;
  const base = mediaType === "oci" ? ["--oci-empty-base"] : [];
  await run(["append", ...files.flatMap((f) => ["-f", f]), "-t", scratch, ...base]);
  const destination = tag === undefined ? ["--repo", repository] : ["-t", target];
  const output = await run(["mutate", scratch, "--set-platform", platform, ...destination]);
  // Deleting a tag needs the `delete` action; a user without it leaves the scratch tag.
  await run(["delete", scratch]).catch(() => undefined);
  return digestOf(output);
}

function randomLayers(count: number): LayerFiles[] {
  return Array.from({ length: count }, (_, i) => ({
    [`random/layer-${i}`]: randomBytes(1024 + Math.floor(Math.random() * 1024)),
  }));
}

/** `host/name:tag`, `host/name@digest`: the repository and the tag, if any. */
export function splitReference(ref: string): { repository: string; tag?: string } {
  const at = ref.indexOf("@");
  const name = at === -1 ? ref : ref.slice(0, at);
  const colon = name.lastIndexOf(":");
  if (colon <= name.lastIndexOf("/")) return { repository: name };
  return { repository: name.slice(0, colon), tag: name.slice(colon + 1) };
}

/** The digest at the end of crane's output (`host/name@sha256:…`). */
function digestOf(output: string): string {
  const match = /(sha256:[0-9a-f]{64})\s*$/.exec(output);
  if (match?.[1] === undefined) throw new Error(`no digest in crane output: ${output}`);
  return match[1];
}
