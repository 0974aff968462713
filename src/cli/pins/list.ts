import { viewOf, type PolicyStore } from "../../pins/index.ts";
import { repositoryOfKey, type PinRecord } from "../../policy/index.ts";
import type { CliIO } from "../command.ts";
import { formatList, type ListFormat, type ListShape } from "../output.ts";

/** Which pins `pins list` shows: by registry, repository (`registry/repository`) and tag. */
export interface PinFilter {
  readonly registry?: string | undefined;
  readonly repository?: string | undefined;
  readonly tag?: string | undefined;
}

/** One listed pin: the record and the documents it is in. */
export interface ListedPin {
  readonly key: string;
  readonly digest: string;
  readonly pinnedAt?: string;
  readonly pinnedBy?: string;
  readonly reason?: string;
  readonly platforms?: Readonly<Record<string, string>>;
  readonly history: PinRecord["history"];
  /** `configmap NS/NAME` or a file name, each document that pins it. */
  readonly in: readonly string[];
}

/** Whether `key` passes `filter`. */
export function selects(filter: PinFilter, key: string): boolean {
  const repository = repositoryOfKey(key);
  const registry = repository.slice(0, repository.indexOf("/"));
  const tag = key.slice(repository.length + 1);
  return (
    (filter.registry === undefined || filter.registry === registry) &&
    (filter.repository === undefined ||
      filter.repository === repository ||
      filter.repository === repository.slice(registry.length + 1)) &&
    (filter.tag === undefined || filter.tag === tag)
  );
}

/** How `pins list` prints: KEY, DIGEST, PINNED AT, PINNED BY, IN; -o name prints the keys. */
const pinList: ListShape<ListedPin> = {
  header: ["KEY", "DIGEST", "PINNED AT", "PINNED BY", "IN"],
  row: (pin) => [pin.key, pin.digest, pin.pinnedAt ?? "", pin.pinnedBy ?? "", pin.in.join(",")],
  name: (pin) => pin.key,
  object: (pin) => pin,
};

/** `digestpin pins list`: every pin in force, where it is kept, filtered, in `format`. */
export async function listPins(
  store: PolicyStore,
  filter: PinFilter,
  format: ListFormat,
  noHeaders: boolean,
  io: CliIO,
): Promise<number> {
  const view = viewOf(await store.read());
  const pins: ListedPin[] = [...view.policy.pins.records()]
    .filter((pin) => selects(filter, pin.key))
    .sort((a, b) => a.key.localeCompare(b.key))
    .map((pin) => ({
      key: pin.key,
      digest: pin.digest,
      ...(pin.pinnedAt !== undefined && { pinnedAt: pin.pinnedAt }),
      ...(pin.pinnedBy !== undefined && { pinnedBy: pin.pinnedBy }),
      ...(pin.reason !== undefined && { reason: pin.reason }),
      ...(pin.platforms !== undefined && { platforms: pin.platforms }),
      history: pin.history,
      in: view.holders(pin.key).map((d) => d.name),
    }));
  io.stdout(formatList(pins, pinList, format, noHeaders));
  return 0;
}
