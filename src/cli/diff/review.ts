import { baseLayerCount, comparePrefix, type PrefixFinding } from "../../layers/index.ts";
import type { PinIndex } from "../../policy/index.ts";
import { tryParseReference } from "../../reference/index.ts";
import type { ImageDetails, ManifestTree, RepositoryName } from "../../registry/index.ts";
import { readBaseChain, type BaseChain } from "../base-chain.ts";
import type { RegistrySession } from "../registry-access.ts";
import type { ImageDiff } from "./compare.ts";

/** Both images' base chains against the pins. */
export async function readChains(
  session: RegistrySession,
  name: RepositoryName,
  pinned: string,
  current: string,
  pins: PinIndex,
): Promise<{ pinned: BaseChain; current: BaseChain }> {
  const read = (repository: RepositoryName, digest: string) =>
    session.facts.bases(repository, digest, {
      keychain: session.keychain,
      deadline: session.deadline(),
    });
  const [before, after] = await Promise.all([
    readBaseChain(read, name, pinned, pins),
    pinned === current ? undefined : readBaseChain(read, name, current, pins),
  ]);
  return { pinned: before, current: after ?? before };
}

/**
 * Per platform, whether the current image still starts with the pinned image's layers, and
 * with the layers of the base the pinned image declares (when it declares one with a digest
 * and that base can be read).
 */
export async function readLayering(
  session: RegistrySession,
  comparison: ImageDiff,
  pinnedChain: BaseChain,
): Promise<Map<string, PrefixFinding>> {
  const declared = pinnedChain.levels[0]?.find((status) => status.base.digest !== undefined);
  const parsed = declared === undefined ? undefined : tryParseReference(declared.base.name);
  let base: ManifestTree | undefined;
  if (declared?.base.digest !== undefined && parsed?.ok === true) {
    base = await session.facts
      .tree(parsed.reference, declared.base.digest, {
        keychain: session.keychain,
        deadline: session.deadline(),
      })
      .catch(() => undefined);
  }
  const findings = new Map<string, PrefixFinding>();
  for (const { platform, pinned, current } of comparison.platforms) {
    if (pinned === undefined || current === undefined || pinned.digest === current.digest) continue;
    findings.set(
      platform,
      comparePrefix(
        platform,
        pinned.layers.map((layer) => layer.digest),
        current.layers.map((layer) => layer.digest),
        baseLayerCount(base, pinned.platform),
      ),
    );
  }
  return findings;
}

/** An ImageDiff-compatible stand-in for a pinned image the registry no longer has. */
export function missingImage(digest: string): ImageDetails {
  return { digest, mediaType: "", index: false, images: [] };
}
