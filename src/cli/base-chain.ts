import {
  baseLink,
  baseStatus,
  baseVerdict,
  type BaseStatus,
  type PinIndex,
} from "../policy/index.ts";
import { distinctBases, tryParseReference, type BaseDeclaration } from "../reference/index.ts";
import type { RepositoryName } from "../registry/index.ts";

/** Reads the bases `digest` of `name` declares (ImageFacts.bases with the CLI's credentials). */
export type ReadBases = (
  name: RepositoryName,
  digest: string,
) => Promise<readonly BaseDeclaration[]>;

/**
 * An image's base images, level by level: what the image declares, then what that base
 * declares, and so on (following the first declaration with a digest), each against the pins.
 */
export interface BaseChain {
  readonly levels: readonly (readonly BaseStatus[])[];
  /** Why the chain stops early (a base that cannot be read), if it does. */
  readonly stopped?: string;
}

export const MAX_CHAIN = 4;

export async function readBaseChain(
  read: ReadBases,
  name: RepositoryName,
  digest: string,
  pins: PinIndex,
): Promise<BaseChain> {
  const levels: BaseStatus[][] = [];
  const seen = new Set<string>([digest]);
  let at: { name: RepositoryName; digest: string } | undefined = { name, digest };
  while (at !== undefined && levels.length < MAX_CHAIN) {
    let bases: readonly BaseDeclaration[];
    try {
      bases = distinctBases(await read(at.name, at.digest));
    } catch (error) {
      const why = `cannot read the base images of ${at.name.registry}/${at.name.repository}@${at.digest}: ${(error as Error).message}`;
      return { levels, stopped: why };
    }
    if (bases.length === 0) break;
    levels.push(bases.map((base) => baseStatus(base, pins)));
    const next = bases.find((base) => base.digest !== undefined);
    const parsed = next === undefined ? undefined : tryParseReference(next.name);
    at =
      next?.digest === undefined || parsed?.ok !== true || seen.has(next.digest)
        ? undefined
        : { name: parsed.reference, digest: next.digest };
    if (at !== undefined) seen.add(at.digest);
  }
  return { levels };
}

/** The chain as lines: `← NAME@DIGEST (source): verdict`, one per declaration. */
export function chainLines(chain: BaseChain, indent: string): string[] {
  if (chain.levels.length === 0 && chain.stopped === undefined) {
    return [`${indent}no base image declared (org.opencontainers.image.base.name)`];
  }
  const lines = chain.levels.flatMap((level, depth) =>
    level.map(
      (status) =>
        `${indent}${"  ".repeat(depth)}← ${baseLink(status.base)}: ${baseVerdict(status)}`,
    ),
  );
  return chain.stopped === undefined ? lines : [...lines, `${indent}(${chain.stopped})`];
}

/** The chain for JSON. */
export function chainJson(chain: BaseChain): unknown {
  return {
    levels: chain.levels.map((level) =>
      level.map((status) => ({
        name: status.base.name,
        digest: status.base.digest ?? null,
        source: status.base.source,
        platform: status.base.platform ?? null,
        state: status.state,
        pin: status.pin === undefined ? null : { key: status.pin.key, digest: status.pin.digest },
      })),
    ),
    ...(chain.stopped !== undefined && { stopped: chain.stopped }),
  };
}
