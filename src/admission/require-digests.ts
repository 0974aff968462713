import { decide, type Decision, type Policy, shortImage, deny } from "../policy/index.ts";

/**
 * The validating webhook's view of a Pod's image: digest-form images are judged against the
 * pins (no registry needed); a tag the mutating webhook should have rewritten is denied, since
 * only a digest guarantees what the node pulls. Never asks a registry.
 */
export function requireDigest(image: string, namespace: string, policy: Policy): Decision {
  const first = decide(image, { namespace, dryRun: true }, policy);
  if (first.action !== "lookup") return first;
  const message =
    `image "${image}" is not in digest form, so the node could pull anything the tag points at. ` +
    `digestpin's mutating webhook rewrites pinned tags to digests: check that it is registered ` +
    `for this namespace and ran, or write the image as ${first.key}@sha256:….`;
  const summary = `${shortImage(image)} is not in digest form`;
  return deny(
    "not-digest-form",
    image,
    first.reference,
    { message, summary },
    policy.settings.mode,
  );
}
