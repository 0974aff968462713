import type { RegistryReader, RepositoryName } from "../registry/index.ts";
import { arrayAt } from "./json.ts";
import type { TrustedKey } from "./keys.ts";
import type { SignatureProblem, VerifiedSignature } from "./outcomes.ts";
import {
  descriptorsOf,
  MAX_SIGNATURE_BLOB_BYTES,
  MAX_SIGNATURES,
  readManifestObject,
  readProblem,
  readSmallBlob,
  type SignatureReadOptions,
} from "./registry-reads.ts";
import { judgeSimpleSigning, SIMPLE_SIGNING_MEDIA_TYPE } from "./simple-signing.ts";

export type Judgement = VerifiedSignature | SignatureProblem;

/** `sha256:abc…` → `sha256-abc….sig`: where cosign (v2, and v3 without bundles) signs. */
export function sigTagOf(digest: string): string {
  return `${digest.replace(":", "-")}.sig`;
}

/**
 * The cosign signatures of `digest` in its `.sig` tag, each judged: [] when the tag does not
 * exist. A failure to read the tag itself is thrown (a RegistryError); a payload that cannot be
 * read is a problem of its own.
 */
export async function sigTagSignatures(
  reader: RegistryReader,
  name: RepositoryName,
  digest: string,
  keys: readonly TrustedKey[],
  options: SignatureReadOptions,
): Promise<Judgement[]> {
  const manifest = await readManifestObject(reader, name, sigTagOf(digest), options);
  if (manifest === undefined) return [];
  const where = { format: "sig-tag" as const, manifestDigest: manifest.digest };
  const layers = descriptorsOf(arrayAt(manifest.json, "layers")).filter(
    (layer) => layer.mediaType === SIMPLE_SIGNING_MEDIA_TYPE,
  );
  if (layers.length === 0) {
    return [
      {
        ...where,
        reason: "malformed",
        message: `${sigTagOf(digest)} (${manifest.digest}) holds no cosign simple-signing layer`,
      },
    ];
  }
  return Promise.all(
    layers.slice(0, MAX_SIGNATURES).map(async (layer): Promise<Judgement> => {
      if (layer.size > MAX_SIGNATURE_BLOB_BYTES) {
        return {
          ...where,
          reason: "malformed",
          message: `a signature payload of ${sigTagOf(digest)} is ${layer.size} bytes; cosign's are a few hundred`,
        };
      }
      try {
        const payload = await readSmallBlob(reader, name, layer, options);
        return judgeSimpleSigning(
          { payload, annotations: layer.annotations, manifestDigest: manifest.digest },
          digest,
          keys,
        );
      } catch (error) {
        return readProblem(error, where, `the signature payload ${layer.digest}`);
      }
    }),
  );
}
