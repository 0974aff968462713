import { quote } from "../../errors.ts";
import type { PinRecord } from "../document/index.ts";

/** Kubernetes shows admission warnings best when they are short. */
export const WARNING_LIMIT = 120;

/** `text` cut to `limit` characters with an ellipsis. */
export function clip(text: string, limit = WARNING_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

/** `sha256:0123456789ab`: enough of a digest to tell two apart in a warning. */
export function shortDigest(digest: string): string {
  const colon = digest.indexOf(":");
  return digest.slice(0, colon + 13);
}

/** `image` for a warning: a digest in it shortened (`app@sha256:0123456789ab…`). */
export function shortImage(image: string): string {
  const at = image.indexOf("@");
  return at === -1 ? image : `${image.slice(0, at + 1)}${shortDigest(image.slice(at + 1))}…`;
}

/** "pinned at 2026-11-26T10:00:00Z by alice@example.com, reason "reviewed release"". */
export function provenance(pin: PinRecord): string {
  const when = pin.pinnedAt === undefined ? "" : ` at ${pin.pinnedAt}`;
  const who = pin.pinnedBy === undefined ? "" : ` by ${pin.pinnedBy}`;
  const why = pin.reason === undefined ? "" : `, reason ${quote(pin.reason)}`;
  const unknown = when === "" && who === "" ? ", when and by whom is not recorded" : "";
  return `pinned${when}${who}${why}${unknown}`;
}

export function approveCommand(key: string, digest: string): string {
  return `digestpin approve ${key} --digest ${digest} --reason "…"`;
}

/** The parts of a denial: the message explains and tells how to fix; the summary is short. */
export interface DenialText {
  readonly message: string;
  readonly summary: string;
}

export const denials = {
  invalidReference: (input: string, problem: string): DenialText => ({
    message: `image ${quote(input)} is not a valid image reference: ${problem}. Fix the image in the pod spec.`,
    summary: "invalid image reference",
  }),

  registryNotAllowed: (input: string, registry: string, hosts: readonly string[]): DenialText => ({
    message:
      `image ${quote(input)} is from registry ${quote(registry)}, which the policy does not allow ` +
      `(registries: ${hosts.join(", ")}); digestpin did not contact it. Use an image from an ` +
      `allowed registry, or add ${quote(registry)} to registries in the policy.`,
    summary: `registry ${registry} is not allowed`,
  }),

  unpinned: (input: string, key: string): DenialText => ({
    message:
      `image ${quote(input)}: ${key} is not pinned, and the policy denies unpinned images ` +
      `(unpinned: deny). Add a pin for ${key} to the policy's pins, or use a pinned image.`,
    summary: `${key} is not pinned`,
  }),

  digestUnknown: (input: string, name: string, digest: string): DenialText => ({
    message:
      `image ${quote(input)}: digest ${digest} is not pinned for any tag of ${name}, and the ` +
      `policy denies unpinned images (unpinned: deny). Use a pinned tag of ${name}, or pin a ` +
      `tag of it to this digest.`,
    summary: `digest ${shortDigest(digest)} is not pinned`,
  }),

  digestMismatch: (
    input: string,
    pin: PinRecord,
    digest: string,
    pinnedImage: string,
  ): DenialText => ({
    message:
      `image ${quote(input)}: digest ${digest} does not match the pin: ${pin.key} is pinned to ` +
      `${pin.digest} (${provenance(pin)}). Use ${pinnedImage}; to pin the new digest instead, ` +
      `review it and run ${approveCommand(pin.key, digest)}`,
    summary: `digest does not match the pin ${shortDigest(pin.digest)}`,
  }),

  drift: (input: string, pin: PinRecord, current: string, pinnedImage: string): DenialText => ({
    message:
      `image ${quote(input)}: the tag moved. ${pin.key} is pinned to ${pin.digest} ` +
      `(${provenance(pin)}), but the registry now serves ${current}. Review the new image; to ` +
      `accept it run ${approveCommand(pin.key, current)}; to deploy the reviewed image meanwhile, ` +
      `use ${pinnedImage}.`,
    summary: `tag moved: pinned ${shortDigest(pin.digest)}, registry serves ${shortDigest(current)}`,
  }),

  unavailablePinned: (
    input: string,
    pin: PinRecord,
    failure: string,
    pinnedImage: string,
  ): DenialText => ({
    message:
      `image ${quote(input)}: could not ask the registry whether ${pin.key} still serves the ` +
      `pinned ${pin.digest} (${failure}), and the policy denies when the registry is ` +
      `unavailable (registryUnavailable: deny). Retry later, or use ${pinnedImage}.`,
    summary: "registry unavailable",
  }),

  unavailableUnpinned: (input: string, key: string, failure: string): DenialText => ({
    message:
      `image ${quote(input)}: ${key} is not pinned and the registry could not be asked which ` +
      `digest it serves (${failure}). Retry when the registry is reachable, or pin ${key}.`,
    summary: "registry unavailable and no pin to fall back on",
  }),

  registryError: (input: string, key: string, failure: string, pin?: PinRecord): DenialText => ({
    message:
      `image ${quote(input)}: the registry answered with an error for ${key}: ${failure}.` +
      (pin === undefined ? "" : ` The pin is ${pin.digest}.`) +
      ` Check that the image exists and that digestpin may read it (registries[].credentialsSecret).`,
    summary: `registry error for ${key}`,
  }),
};
