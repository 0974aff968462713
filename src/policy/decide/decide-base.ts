import { distinctBases, type BaseDeclaration } from "../../reference/index.ts";
import { baseLink, baseStatus, baseVerdict, type BaseStatus } from "./base-status.ts";
import type { Decision, DecisionReason, RegistryFailure } from "./decision.ts";
import { clip, shortImage, type DenialText } from "./messages.ts";
import type { Policy } from "./policy.ts";
import { deny } from "./verdicts.ts";

/** What the registry said about the bases of the image a decision admits. */
export type BaseObservation =
  { readonly bases: readonly BaseDeclaration[] } | { readonly error: RegistryFailure };

/**
 * The digest a decision admits the image at, when it admits one: a rewrite to a digest, or a
 * digest reference the pins allow. Exemptions and unpinned tags admitted as written have none.
 */
export function admittedDigest(decision: Decision): string | undefined {
  if (decision.action === "mutate") return decision.digest;
  if (decision.action !== "allow" || decision.wouldDeny) return undefined;
  const digestReasons: readonly DecisionReason[] = [
    "digest-pinned",
    "digest-known",
    "digest-unknown",
  ];
  return digestReasons.includes(decision.reason)
    ? (decision.reference?.digest ?? undefined)
    : undefined;
}

/**
 * `baseImages: require-pinned` for an admitted image at `digest`: every base it declares must
 * be pinned (its digest the pin of its tag, or of another tag of its repository). Otherwise the
 * image is denied (through `mode`) with the chain in the message. When the bases could not be
 * read, `registryUnavailable` decides as it does for tags. Pure.
 */
export function decideBase(
  decision: Decision,
  digest: string,
  policy: Policy,
  observed: BaseObservation,
): Decision {
  const { mode, registryUnavailable } = policy.settings;
  const image = decision.input;
  if ("error" in observed) {
    const failure = `${observed.error.code}: ${observed.error.message}`;
    if (observed.error.unavailable && registryUnavailable === "use-pin") {
      const warning = `base images of ${shortImage(image)} not checked: registry unavailable`;
      return {
        ...decision,
        message: `${decision.message}; its base images could not be read (${failure}), admitted anyway (registryUnavailable: use-pin)`,
        warning: clip(decision.warning === undefined ? warning : `${decision.warning}; ${warning}`),
      };
    }
    const text: DenialText = {
      message:
        `image "${image}": the policy requires pinned base images (baseImages: require-pinned), ` +
        `but the manifests of ${digest} could not be read to find its base (${failure}). Retry later.`,
      summary: "base images could not be read",
    };
    const reason = observed.error.unavailable ? "registry-unavailable" : "registry-error";
    return withBaseDenial(decision, reason, text, mode);
  }
  const statuses = distinctBases(observed.bases).map((base) => baseStatus(base, policy.pins));
  const problems = statuses.filter((status) => status.state !== "pinned");
  if (problems.length === 0) return decision;
  const drifted = problems.some((status) => status.state === "drifted");
  const chain = chainText(image, digest, statuses);
  const first = problems[0];
  const key = first?.key ?? first?.base.name ?? "the base";
  const text: DenialText = drifted
    ? {
        message:
          `image "${image}": its base image drifted (baseImages: require-pinned). Chain: ${chain}. ` +
          `The image was built on a base that differs from the reviewed pin. Review the base ` +
          `with 'digestpin diff ${key}' and approve it, or rebuild the image on the pinned base.`,
        summary: `base ${key} drifted`,
      }
    : {
        message:
          `image "${image}": its base image is not pinned (baseImages: require-pinned). Chain: ` +
          `${chain}. Pin the base (digestpin pin ${key}) after reviewing it, or rebuild the ` +
          `image on a pinned base.`,
        summary: `base ${key} is not pinned`,
      };
  return withBaseDenial(decision, drifted ? "base-drifted" : "base-unpinned", text, mode);
}

/** `app:1@sha256:… ← base:1@sha256:… (manifest annotation): drifted: …`. */
export function chainText(image: string, digest: string, statuses: readonly BaseStatus[]): string {
  const top = image.includes("@") ? image : `${image}@${digest}`;
  const links = statuses.map((status) => `${baseLink(status.base)}: ${baseVerdict(status)}`);
  return [top, ...links].join(" ← ");
}

/**
 * A denial that keeps what the decision admitted in warn and audit mode (the image is still
 * rewritten to its digest), and denies in enforce mode.
 */
export function withBaseDenial(
  decision: Decision,
  reason: DecisionReason,
  text: DenialText,
  mode: Policy["settings"]["mode"],
): Decision {
  if (mode === "enforce") return deny(reason, decision.input, decision.reference, text, mode);
  if (mode === "audit") return { ...decision, reason, wouldDeny: true, audit: text.message };
  const warning = `would deny ${shortImage(decision.input)}: ${text.summary} (mode: warn)`;
  return { ...decision, reason, wouldDeny: true, warning: clip(warning) };
}
