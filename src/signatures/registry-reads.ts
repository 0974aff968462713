import {
  RegistryError,
  type ReadOptions,
  type RegistryReader,
  type RepositoryName,
} from "../registry/index.ts";
import { asObject, parseObject, stringAt, type JsonObject } from "./json.ts";
import type { SignatureFormat, SignatureProblem } from "./outcomes.ts";

/** Signature payloads and bundles are a few KiB; anything near this is not cosign's. */
export const MAX_SIGNATURE_BLOB_BYTES = 256 * 1024;
/** Signatures (layers, referrers) judged per digest and format; the rest are ignored. */
export const MAX_SIGNATURES = 32;

/** What one signature read needs: credentials, the deadline, and a signal that carries it. */
export interface SignatureReadOptions extends ReadOptions {
  readonly deadline: number;
  readonly signal: AbortSignal;
}

/** A descriptor (a manifest's layer, an index entry) as read from untrusted JSON. */
export interface Descriptor {
  readonly mediaType: string | undefined;
  readonly artifactType: string | undefined;
  readonly digest: string;
  readonly size: number;
  readonly annotations: Readonly<Record<string, string>>;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** The entries of `list` that are descriptors with a sha256 digest and a size. */
export function descriptorsOf(list: readonly unknown[]): Descriptor[] {
  return list.flatMap((entry) => {
    const object = asObject(entry);
    const digest = stringAt(object, "digest");
    const size = object?.size;
    if (digest === undefined || !DIGEST.test(digest) || typeof size !== "number") return [];
    if (!Number.isSafeInteger(size) || size < 0) return [];
    return [
      {
        mediaType: stringAt(object, "mediaType"),
        artifactType: stringAt(object, "artifactType"),
        digest,
        size,
        annotations: stringsOf(object?.annotations),
      },
    ];
  });
}

/** A manifest by tag or digest as a JSON object; undefined when the registry has none (404). */
export async function readManifestObject(
  reader: RegistryReader,
  name: RepositoryName,
  reference: string,
  options: SignatureReadOptions,
): Promise<{ digest: string; json: JsonObject | undefined } | undefined> {
  try {
    const manifest = await reader.manifest(name, reference, options);
    return { digest: manifest.digest, json: parseObject(manifest.body) };
  } catch (error) {
    if (error instanceof RegistryError && error.code === "ERR_REGISTRY_NOT_FOUND") return undefined;
    throw error;
  }
}

/**
 * The bytes of a small blob (a signature payload, a bundle), at most its descriptor's size and
 * checked against its digest as they stream.
 */
export async function readSmallBlob(
  reader: RegistryReader,
  name: RepositoryName,
  descriptor: Descriptor,
  options: SignatureReadOptions,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const stream = await reader.openBlob(name, descriptor.digest, {
    ...options,
    size: descriptor.size,
  });
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const CONTENT_ERRORS: ReadonlySet<string> = new Set([
  "ERR_REGISTRY_NOT_FOUND",
  "ERR_REGISTRY_PROTOCOL",
  "ERR_DIGEST_MISMATCH",
  "ERR_MANIFEST_TOO_LARGE",
  "ERR_UNSUPPORTED_MEDIA_TYPE",
]);

/**
 * The problem a failed registry read makes: `malformed` when it is about what the registry holds
 * (a missing or lying blob, a body too large), `registry-error` when it is about reaching it
 * (time-outs, credentials, TLS). Anything but a RegistryError is a bug and is thrown again.
 */
export function readProblem(
  error: unknown,
  where: { readonly format: SignatureFormat; readonly manifestDigest?: string },
  what: string,
): SignatureProblem {
  if (!(error instanceof RegistryError)) throw error;
  return CONTENT_ERRORS.has(error.code)
    ? { ...where, reason: "malformed", message: `${what} cannot be read: ${error.message}` }
    : { ...where, reason: "registry-error", message: `${what} cannot be read: ${error.message}` };
}

function stringsOf(value: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, text] of Object.entries(asObject(value) ?? {})) {
    if (typeof text === "string") result[key] = text;
  }
  return result;
}
