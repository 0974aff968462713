import { nameOf, pinKeyOf, type ImageReference } from "../../reference/index.ts";
import type { Decision } from "./decision.ts";
import { denials, shortImage } from "./messages.ts";
import type { Policy } from "./policy.ts";
import { rewriteImage } from "./rewrite.ts";
import { allow, deny } from "./verdicts.ts";

/**
 * A reference with a digest (`repository@D` or `repository:tag@D`). The registry is never
 * asked: the digest already fixes the content, so only the pins matter.
 *
 * - `repo:tag@D`, tag pinned to D (or D is a platform digest recorded in that pin): allow.
 * - `repo:tag@X`, tag pinned to D ≠ X: deny, the digest contradicts the pin.
 * - otherwise D pinned for some tag of repo (as index or platform digest): allow.
 * - otherwise `unpinned` decides: deny denies; allow admits with a warning; resolve and
 *   trust-on-first-use admit unchanged and record nothing (pins are keyed by tag, and digestpin
 *   did not see the registry serve this digest under any tag).
 */
export function decideDigestReference(
  image: string,
  ref: ImageReference,
  policy: Policy,
): Decision {
  const { mode, unpinned } = policy.settings;
  const digest = ref.digest ?? "";
  const name = nameOf(ref);
  const key = pinKeyOf(ref);
  const pin = key === null ? undefined : policy.pins.get(key);
  if (pin !== undefined) {
    const platform = Object.entries(pin.platforms ?? {}).find(([, d]) => d === digest)?.[0];
    if (pin.digest === digest || platform !== undefined) {
      const part = platform === undefined ? "" : ` (its ${platform} manifest)`;
      const message = `${pin.key} is pinned to ${pin.digest}${part}, the digest the image names`;
      return allow("digest-pinned", image, ref, { message });
    }
    const text = denials.digestMismatch(image, pin, digest, rewriteImage(image, ref, pin.digest));
    return deny("digest-mismatch", image, ref, text, mode);
  }
  const uses = policy.pins.usesOf(name, digest);
  if (uses.length > 0) {
    const pins = uses.map((use) =>
      use.platform === null ? use.key : `${use.key} (${use.platform})`,
    );
    return allow("digest-known", image, ref, {
      message: `${digest} is pinned as ${pins.join(", ")}`,
    });
  }
  switch (unpinned) {
    case "deny":
      return deny("digest-unknown", image, ref, denials.digestUnknown(image, name, digest), mode);
    case "allow": {
      const message = `digest ${digest} is not pinned for ${name}; admitted unchanged (unpinned: allow)`;
      const warning = `${shortImage(image)} is not pinned; admitted unchanged (unpinned: allow)`;
      return allow("digest-unknown", image, ref, { message, warning });
    }
    case "resolve":
    case "trust-on-first-use": {
      const message =
        `digest ${digest} is not pinned for ${name}; a digest cannot move, so it is admitted ` +
        `unchanged and nothing is recorded (unpinned: ${unpinned})`;
      return allow("digest-unknown", image, ref, { message });
    }
  }
}
