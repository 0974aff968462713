import type { RegistryReader, RepositoryName } from "../registry/index.ts";
import { BUNDLE_MEDIA_TYPE_PREFIX, judgeBundle, SIGN_PREDICATE_TYPE } from "./bundle.ts";
import { arrayAt, objectAt, parseObject, stringAt } from "./json.ts";
import type { TrustedKey } from "./keys.ts";
import type { SignatureProblem } from "./outcomes.ts";
import {
  descriptorsOf,
  MAX_SIGNATURE_BLOB_BYTES,
  MAX_SIGNATURES,
  readManifestObject,
  readProblem,
  readSmallBlob,
  type Descriptor,
  type SignatureReadOptions,
} from "./registry-reads.ts";
import type { Judgement } from "./sig-tag.ts";

/** Set by cosign on bundle referrers: which in-toto predicate the bundle signs. */
const PREDICATE_ANNOTATION = "dev.sigstore.bundle.predicateType";

/** `sha256:abc…` → `sha256-abc…`: the OCI 1.1 referrers tag schema's fallback tag. */
export function referrersTagOf(digest: string): string {
  return digest.replace(":", "-");
}

/**
 * The sigstore bundles attached to `digest` as OCI 1.1 referrers, each judged: found through the
 * referrers API, or through the fallback tag when the registry has no such API. Attestations
 * (bundles of other predicates) are not signatures and are left out. [] when there are none.
 */
export async function bundleSignatures(
  reader: RegistryReader,
  name: RepositoryName,
  digest: string,
  keys: readonly TrustedKey[],
  options: SignatureReadOptions,
): Promise<Judgement[]> {
  const referrers = await listReferrers(reader, name, digest, options);
  if (!Array.isArray(referrers)) return [referrers];
  const bundles = referrers.filter(
    (entry) =>
      (entry.artifactType ?? "").startsWith(BUNDLE_MEDIA_TYPE_PREFIX) &&
      (entry.annotations[PREDICATE_ANNOTATION] ?? SIGN_PREDICATE_TYPE) === SIGN_PREDICATE_TYPE,
  );
  return Promise.all(
    bundles
      .slice(0, MAX_SIGNATURES)
      .map((entry) => bundleReferrer(reader, name, digest, keys, entry, options)),
  );
}

/** The referrers of `digest`, or the problem with the index the registry gave for them. */
async function listReferrers(
  reader: RegistryReader,
  name: RepositoryName,
  digest: string,
  options: SignatureReadOptions,
): Promise<Descriptor[] | SignatureProblem> {
  const api = await reader.referrers(name, digest, options);
  if (api === undefined) {
    const fallback = await readManifestObject(reader, name, referrersTagOf(digest), options);
    if (fallback === undefined) return [];
    return fallback.json === undefined
      ? notAnIndex(`the referrers tag ${referrersTagOf(digest)} (${fallback.digest})`)
      : descriptorsOf(arrayAt(fallback.json, "manifests"));
  }
  const index = parseObject(api);
  return index === undefined
    ? notAnIndex(`the registry's referrers list of ${digest}`)
    : descriptorsOf(arrayAt(index, "manifests"));
}

function notAnIndex(what: string): SignatureProblem {
  return { format: "bundle", reason: "malformed", message: `${what} is not a JSON index` };
}

async function bundleReferrer(
  reader: RegistryReader,
  name: RepositoryName,
  digest: string,
  keys: readonly TrustedKey[],
  entry: Descriptor,
  options: SignatureReadOptions,
): Promise<Judgement> {
  const where = { format: "bundle" as const, manifestDigest: entry.digest };
  try {
    const manifest = await readManifestObject(reader, name, entry.digest, options);
    if (manifest === undefined) {
      return {
        ...where,
        reason: "malformed",
        message: `the referrer ${entry.digest} is listed but missing`,
      };
    }
    const subject = stringAt(objectAt(manifest.json, "subject"), "digest");
    if (subject !== digest) {
      return {
        ...where,
        reason: "digest-mismatch",
        message: `the referrer ${entry.digest} is attached to ${subject ?? "nothing"}, not to ${digest}`,
      };
    }
    const layer = descriptorsOf(arrayAt(manifest.json, "layers")).find((l) =>
      (l.mediaType ?? "").startsWith(BUNDLE_MEDIA_TYPE_PREFIX),
    );
    if (layer === undefined || layer.size > MAX_SIGNATURE_BLOB_BYTES) {
      return {
        ...where,
        reason: "malformed",
        message: `the referrer ${entry.digest} has no sigstore bundle layer of at most ${MAX_SIGNATURE_BLOB_BYTES} bytes`,
      };
    }
    const bundle = await readSmallBlob(reader, name, layer, options);
    return judgeBundle({ bundle, manifestDigest: entry.digest }, digest, keys);
  } catch (error) {
    return readProblem(error, where, `the sigstore bundle referrer ${entry.digest}`);
  }
}
