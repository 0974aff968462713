import type { ImageReference } from "../../reference/index.ts";
import type { Rewrite } from "../document/index.ts";

/**
 * The name part of `image` exactly as written (`busybox`, `docker.io/library/busybox`,
 * `localhost:5000/app`): before the first "@", and before the first ":" after the last "/".
 * The same split the reference parser makes, so it is the name it parsed.
 */
export function nameAsWritten(image: string): string {
  const at = image.indexOf("@");
  const beforeDigest = at === -1 ? image : image.slice(0, at);
  const colon = beforeDigest.indexOf(":", beforeDigest.lastIndexOf("/") + 1);
  return colon === -1 ? beforeDigest : beforeDigest.slice(0, colon);
}

/**
 * The image to write for `digest`, keeping the user's spelling of the name: `name:tag@digest`
 * (the tag made explicit, `busybox` → `busybox:latest@…`), or `name@digest` for
 * `rewrite: digest` or a reference without a tag. `rewrite: none` rewrites only where it must
 * (to admit the pin of a moved tag), as `tag-and-digest`.
 */
export function rewriteImage(
  input: string,
  ref: ImageReference,
  digest: string,
  rewrite: Rewrite = "tag-and-digest",
): string {
  const name = nameAsWritten(input);
  return rewrite === "digest" || ref.tag === null
    ? `${name}@${digest}`
    : `${name}:${ref.tag}@${digest}`;
}
