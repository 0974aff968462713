import { admittedDigest, type Decision, type Policy } from "../../policy/index.ts";
import { nameOf, type ImageReference } from "../../reference/index.ts";
import type { RepositoryName } from "../../registry/index.ts";
import { chainLines, readBaseChain } from "../base-chain.ts";
import { mapLimited, type RegistrySession } from "../registry-access.ts";

/**
 * `check --bases`: the base-image chain of every distinct image the check admits at a digest,
 * each link against the pins (denials for `baseImages: require-pinned` carry theirs already).
 */
export async function basesReport(
  decisions: readonly Decision[],
  policy: Policy,
  session: RegistrySession,
): Promise<string> {
  const images = new Map<string, { name: ImageReference; digest: string }>();
  for (const decision of decisions) {
    const digest = admittedDigest(decision);
    if (digest === undefined || decision.reference === null) continue;
    images.set(`${nameOf(decision.reference)}@${digest}`, { name: decision.reference, digest });
  }
  const blocks = await mapLimited([...images], 4, async ([label, { name, digest }]) => {
    const read = (repository: RepositoryName, d: string) =>
      session.facts.bases(repository, d, {
        keychain: session.keychain,
        deadline: session.deadline(),
      });
    const chain = await readBaseChain(read, name, digest, policy.pins);
    return [`  ${label}`, ...chainLines(chain, "    ")];
  });
  return blocks.length === 0 ? "" : `\nbase images\n${blocks.flat().join("\n")}\n`;
}
