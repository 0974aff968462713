import { notePinDelta, samePin, type PinDelta } from "../decide/index.ts";
import type { CheckedFile, DocumentResult, PinRecord, PlainEdit } from "../document/index.ts";

/*
 * A large pins file edited by one pin should cost one pin to bring back from the worker: the
 * worker (DeltaEncoder) sends, for each document of a file it has sent before, only the pins
 * that are new or changed and the keys that are gone; the main thread (DeltaDecoder) rebuilds
 * the document from the one it decoded last and notes the difference for PinMerge, which then
 * merges only those pins. A pin whose only change is its line keeps its old line here (lines
 * are only used in messages; a source that meets an invalid merge reads its files whole again).
 */

/** The difference of one document's pins, by slot (`policies/0`, `pins/2`). */
interface SlotDelta {
  readonly set: readonly PinRecord[];
  readonly unset: readonly string[];
}

/** A checked file as the worker sends it: documents with a delta have no pins of their own. */
export interface EncodedFile {
  readonly checked: CheckedFile;
  readonly deltas: Readonly<Record<string, SlotDelta>>;
}

function slots(checked: CheckedFile): [string, DocumentResult][] {
  return [
    ...checked.policies.map((result, i): [string, DocumentResult] => [`policies/${i}`, result]),
    ...checked.pins.map((result, i): [string, DocumentResult] => [`pins/${i}`, result]),
  ];
}

/** `checked` with no pins in the documents of `sent` (their pins go as a difference). */
function withoutPins(checked: CheckedFile, sent: ReadonlySet<DocumentResult>): CheckedFile {
  const emptied = (result: DocumentResult): DocumentResult =>
    sent.has(result) && result.ok
      ? { ok: true, document: { ...result.document, pins: [] } }
      : result;
  return { policies: checked.policies.map(emptied), pins: checked.pins.map(emptied) };
}

/** Worker side: what each file's documents held when last sent. */
export class DeltaEncoder {
  /** By document: its pins by key (compared with samePin: everything but where each was read). */
  readonly #last = new Map<string, Map<string, PinRecord>>();

  encode(file: string, checked: CheckedFile): EncodedFile {
    const deltas: Record<string, SlotDelta> = {};
    const strip = new Set<DocumentResult>();
    for (const [slot, result] of slots(checked)) {
      const name = `${file}\n${slot}`;
      if (!result.ok) {
        this.#last.delete(name);
        continue;
      }
      const pins = new Map(result.document.pins.map((pin) => [pin.key, pin]));
      const before = this.#last.get(name);
      this.#last.set(name, pins);
      if (before === undefined) continue;
      const set = result.document.pins.filter((pin) => {
        const was = before.get(pin.key);
        return was === undefined || !samePin(was, pin);
      });
      const unset = [...before.keys()].filter((key) => !pins.has(key));
      deltas[slot] = { set, unset };
      strip.add(result);
    }
    return { checked: withoutPins(checked, strip), deltas };
  }

  /**
   * encode() of `checked` (a file, or a document as `{ policies: [], pins: [it] }`), whose one
   * document changed by `edit` alone (editPlainDocument): only the pins it replaced and wrote
   * are compared, not every pin. The same answer as encode().
   */
  encodeEdit(name: string, checked: CheckedFile, edit: PlainEdit): EncodedFile {
    const slot = checked.policies.length > 0 ? "policies/0" : "pins/0";
    const last = this.#last.get(`${name}\n${slot}`);
    const [result] = [...checked.policies, ...checked.pins];
    if (last === undefined || !result?.ok) return this.encode(name, checked);
    const written = new Set(edit.added.map((pin) => pin.key));
    const unset = edit.removed.map((pin) => pin.key).filter((key) => !written.has(key));
    for (const key of unset) last.delete(key);
    const set = edit.added.filter((pin) => {
      const was = last.get(pin.key);
      last.set(pin.key, pin);
      return was === undefined || !samePin(was, pin);
    });
    return { checked: withoutPins(checked, new Set([result])), deltas: { [slot]: { set, unset } } };
  }

  forget(): void {
    this.#last.clear();
  }
}

/** Main side: each file's documents as last decoded, and where each key is in their pins. */
export class DeltaDecoder {
  readonly #last = new Map<string, { pins: readonly PinRecord[]; position: Map<string, number> }>();

  /** The checked file; throws when a delta refers to a document it does not have. */
  decode(file: string, encoded: EncodedFile): CheckedFile {
    const rebuilt = (slot: string, result: DocumentResult): DocumentResult => {
      const name = `${file}\n${slot}`;
      if (!result.ok) {
        this.#last.delete(name);
        return result;
      }
      const delta = encoded.deltas[slot];
      if (delta === undefined) {
        const { pins } = result.document;
        this.#last.set(name, { pins, position: positions(pins) });
        return result;
      }
      const last = this.#last.get(name);
      if (last === undefined) throw new Error(`no earlier ${name} to apply a difference to`);
      let pins = last.pins.slice();
      let position = last.position;
      for (const record of delta.set) {
        const at = position.get(record.key);
        if (at === undefined) {
          position.set(record.key, pins.length);
          pins.push(record);
        } else pins[at] = record;
      }
      if (delta.unset.length > 0) {
        const gone = new Set(delta.unset);
        pins = pins.filter((pin) => !gone.has(pin.key));
        position = positions(pins);
      }
      this.#last.set(name, { pins, position });
      const difference: PinDelta = { from: last.pins, set: delta.set, unset: delta.unset };
      notePinDelta(pins, difference);
      return { ok: true, document: { ...result.document, pins } };
    };
    const { policies, pins } = encoded.checked;
    return {
      policies: policies.map((result, i) => rebuilt(`policies/${i}`, result)),
      pins: pins.map((result, i) => rebuilt(`pins/${i}`, result)),
    };
  }

  /** Takes `checked` (read on the main thread) as what the next difference applies to. */
  remember(file: string, checked: CheckedFile): void {
    this.decode(file, { checked, deltas: {} });
  }

  forget(): void {
    this.#last.clear();
  }
}

function positions(pins: readonly PinRecord[]): Map<string, number> {
  return new Map(pins.map((pin, index) => [pin.key, index]));
}
