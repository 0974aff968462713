import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { LineCounter, parseAllDocuments, type Document } from "yaml";
import { findImages, type ImageSlot } from "../admission/index.ts";

/** A manifest file (or stdin, `-`) as read: its text and its YAML documents. */
export interface ManifestFile {
  /** As given, or found under a directory given (`deploy/app.yaml`); `-` for stdin. */
  readonly path: string;
  readonly text: string;
  readonly documents: readonly Document[];
  /** Syntax errors, `path:line:column: message`; the file's objects are then not checked. */
  readonly errors: readonly string[];
  /** The line and column (from 1) of a character offset of `text`. */
  readonly position: (offset: number) => { readonly line: number; readonly col: number };
}

/**
 * Where the image at `pointer` (from the document's root) is written: its line and column in
 * the file, or undefined when the document has no such node.
 */
export function imagePosition(
  file: ManifestFile,
  document: Document,
  pointer: string,
): { readonly line: number; readonly col: number } | undefined {
  const node = document.getIn(pointerSegments(pointer), true) as { range?: unknown } | undefined;
  const range = node?.range;
  if (!Array.isArray(range) || typeof range[0] !== "number") return undefined;
  return file.position(range[0]);
}

/** The keys and indexes of a JSON pointer (`/spec/containers/0/image`). */
export function pointerSegments(pointer: string): (string | number)[] {
  return pointer
    .split("/")
    .slice(1)
    .map((part) =>
      /^\d+$/.test(part) ? Number(part) : part.replace(/~1/g, "/").replace(/~0/g, "~"),
    );
}

/** An object of a pod-carrying kind in a manifest file, and its images. */
export interface ManifestObject {
  readonly file: ManifestFile;
  readonly document: Document;
  /** `Deployment/web`, or `Deployment/team/web` with a namespace. */
  readonly name: string;
  readonly namespace: string | undefined;
  /** Each image, its pointer from the document root (`/items/2/spec/containers/0/image`). */
  readonly images: readonly ImageSlot[];
}

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/**
 * Reads manifests: files, directories (every .yaml, .yml and .json below, in name order) and
 * `-` for stdin (read with `readStdin`).
 */
export async function readManifestFiles(
  paths: readonly string[],
  readStdin: () => Promise<string>,
): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  for (const path of paths) {
    if (path === "-") {
      files.push(parseManifests("-", await readStdin()));
      continue;
    }
    for (const file of await expand(path)) {
      files.push(parseManifests(file, await readFile(file, "utf8")));
    }
  }
  return files;
}

async function expand(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  const found: string[] = [];
  for (const entry of entries.toSorted((a, b) => a.name.localeCompare(b.name))) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) found.push(...(await expand(child)));
    else if (MANIFEST_FILE.test(entry.name)) found.push(child);
  }
  return found;
}

/** Parses every YAML (or JSON) document of a manifest file. */
export function parseManifests(path: string, text: string): ManifestFile {
  const lines = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter: lines });
  const documents = Array.isArray(parsed) ? parsed : [];
  const errors = documents.flatMap((document) =>
    document.errors.map((error) => {
      const { line, col } = lines.linePos(error.pos[0]);
      return `${path}:${line}:${col}: ${error.message.split("\n")[0] ?? ""}`;
    }),
  );
  return { path, text, documents, errors, position: (offset) => lines.linePos(offset) };
}

/** The objects with images in a file: each document, and each item of a `kind: List`. */
export function objectsOf(file: ManifestFile): ManifestObject[] {
  if (file.errors.length > 0) return [];
  return file.documents.flatMap((document) => {
    const root: unknown = document.toJS();
    const items = kindOf(root)?.endsWith("List") === true ? listItems(root) : [[root, ""] as const];
    return items.flatMap(([object, prefix]) => {
      const kind = kindOf(object);
      if (kind === undefined) return [];
      const images = findImages(kind, object).map((slot) => ({
        ...slot,
        pointer: prefix + slot.pointer,
      }));
      if (images.length === 0) return [];
      const metadata = field(object, "metadata");
      const name = stringField(metadata, "name") ?? "(unnamed)";
      const namespace = stringField(metadata, "namespace");
      const qualified = namespace === undefined ? name : `${namespace}/${name}`;
      return [{ file, document, name: `${kind}/${qualified}`, namespace, images }];
    });
  });
}

function listItems(list: unknown): (readonly [unknown, string])[] {
  const items = field(list, "items");
  return Array.isArray(items) ? items.map((item, index) => [item, `/items/${index}`] as const) : [];
}

function kindOf(object: unknown): string | undefined {
  return stringField(object, "kind");
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

function stringField(value: unknown, key: string): string | undefined {
  const found = field(value, key);
  return typeof found === "string" ? found : undefined;
}
