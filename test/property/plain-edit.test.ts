import test from "ava";
import fc from "fast-check";
import {
  checkedFile,
  checkPlainDocument,
  checkPlainFile,
  editPlainDocument,
  type CheckedFile,
  type ParsedDocument,
  type PinRecord,
  type PlainEdit,
  type PlainDocument,
} from "../../src/policy/document/index.ts";
import { DeltaDecoder, DeltaEncoder } from "../../src/policy/sources/pin-delta.ts";
import { reportRow } from "../helpers/reliability.ts";

// An edit of a large policy file is read by the pins it touched (plain-edit.ts) instead of
// whole. For any stream of edits, that must give what reading the file whole gives: the same
// document and pins (origins of the pins it did not touch may keep their old lines), the same
// place for every pin, or nothing (then the file is read whole). And the worker's answer, a
// difference of pins, must rebuild the same pins on the main thread.

const FILE = "/etc/digestpin/policy.yaml";
const hex = (seed: number): string => seed.toString(16).padStart(2, "0").repeat(32);

const validPin = fc
  .tuple(fc.nat({ max: 5000 }), fc.nat({ max: 5 }), fc.boolean(), fc.constantFrom(2, 2, 4))
  .map(([n, d, record, deeper]) =>
    record
      ? [
          `  r.example/t/s${n}:1.${n % 3}:`,
          `${" ".repeat(2 + deeper)}digest: sha256:${hex(d)}`,
          `${" ".repeat(2 + deeper)}pinnedBy: ci@acme.example.com`,
        ]
      : [`  r.example/t/s${n}:1.${n % 3}: sha256:${hex(d)}`],
  );
const hostile = fc.constantFrom(
  [""],
  ["  # a comment"],
  ["# a comment at the margin"],
  ['    pinnedAt: "2026-11-20T09:12:00Z"'],
  ["    reason: release pipeline"],
  ["    digest: sha256:abc"],
  ["  r.example/t/bad:1: sha256:abc"],
  ["   r.example/t/odd:1: sha256:" + hex(1)],
  ["  r.example/t/s1:1.1: sha256:" + hex(9)],
  ["mode: warn"],
  ["---"],
  ["  ? r.example/t/q:1"],
  ["\tr.example/t/tab:1: sha256:" + hex(1)],
  ["removed:"],
  ["exempt:", "  namespaces: [kube-system]"],
);
const header = fc.constantFrom(
  ["apiVersion: digestpin.dev/v1alpha1", "kind: Policy", "mode: warn"],
  ["apiVersion: digestpin.dev/v1alpha1", "kind: Policy"],
);
const trailer = fc.constantFrom([], [], ["# the end"], ["exempt:", "  namespaces: [kube-system]"]);

/** An edit of a file's lines: lines inserted at a place, a run of lines removed, or both. */
const edit = fc.record({
  at: fc.nat(),
  remove: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.nat(4) }),
  insert: fc.array(
    fc.oneof({ weight: 8, arbitrary: validPin }, { weight: 1, arbitrary: hostile }),
    {
      maxLength: 3,
    },
  ),
});

/** A pin as compared: everything but where it was read. */
const content = ({ origin: _, ...rest }: PinRecord) => rest;

function documentOf(checked: CheckedFile) {
  const [result] = [...checked.policies, ...checked.pins];
  return result?.ok ? result.document : undefined;
}

/** How one kind of text is read: a policy file, or a pins ConfigMap's document. */
interface Reader {
  readonly name: string;
  readonly header: fc.Arbitrary<readonly string[]>;
  read(
    text: string,
    pinKeys?: Map<string, string | null>,
  ): { checked: CheckedFile; plain?: PlainDocument | undefined };
  /** A document as the worker sends it. */
  wrap(document: ParsedDocument): CheckedFile;
}

const files: Reader = {
  name: "policy file",
  header,
  read: (text, pinKeys) => checkPlainFile(FILE, text, true, pinKeys ? { pinKeys } : {}),
  wrap: (document) => checkedFile({ ok: true, document }, true),
};
const documents: Reader = {
  name: "pins ConfigMap",
  header: fc.constant(["apiVersion: digestpin.dev/v1alpha1", "kind: Pins"]),
  read: (text, pinKeys) => {
    const { result, plain } = checkPlainDocument(text, FILE, {
      expect: "Pins",
      ...(pinKeys !== undefined && { pinKeys }),
    });
    return { checked: { policies: [], pins: [result] }, plain };
  },
  wrap: (document) => ({ policies: [], pins: [{ ok: true, document }] }),
};

for (const reader of [files, documents])
  test(`${reader.name}: a stream of edits read by the pins they touch gives what reading each version whole gives`, (t) => {
    const numRuns = 600;
    let byLines = 0;
    let whole = 0;
    const start = fc
      .tuple(reader.header, fc.array(validPin, { minLength: 1, maxLength: 12 }), trailer)
      .map(([head, pins, tail]) => [...head, "pins:", ...pins.flat(), ...tail]);
    fc.assert(
      fc.property(start, fc.array(edit, { minLength: 1, maxLength: 8 }), (first, edits) => {
        let lines = first;
        let text = lines.join("\n") + "\n";
        const pinKeys = new Map<string, string | null>();
        let plain = reader.read(text, pinKeys).plain;
        // The worker's encoder and the main thread's decoder, fed as the worker feeds them.
        const encoder = new DeltaEncoder();
        const decoder = new DeltaDecoder();
        decoder.decode(FILE, encoder.encode(FILE, reader.read(text).checked));
        for (const step of edits) {
          const at = step.at % (lines.length + 1);
          lines = [...lines.slice(0, at), ...step.insert.flat(), ...lines.slice(at + step.remove)];
          text = lines.join("\n") + "\n";
          const full = reader.read(text);
          const read =
            plain === undefined ? undefined : editPlainDocument(plain, text, { pinKeys });
          if (read === undefined) {
            whole++;
            plain = reader.read(text, pinKeys).plain;
            decoder.decode(FILE, encoder.encode(FILE, full.checked));
            continue;
          }
          byLines++;
          const want = documentOf(full.checked);
          const got = read.plain.document;
          if (want === undefined || full.plain === undefined)
            return t.fail(`read by its lines, but invalid read whole:\n${text}`);
          t.deepEqual({ ...got, pins: [] }, { ...want, pins: [] }, text);
          t.deepEqual(got.pins.map(content), want.pins.map(content), text);
          t.deepEqual(read.plain.lines, full.plain.lines, text);
          t.deepEqual(read.plain.starts, full.plain.starts, text);
          t.is(read.plain.end, full.plain.end, text);
          t.deepEqual([...read.plain.keys].sort(), [...full.plain.keys].sort(), text);
          // The pins it wrote have today's origins.
          const byKey = new Map(want.pins.map((pin) => [pin.key, pin]));
          for (const pin of read.added) t.deepEqual(pin, byKey.get(pin.key), text);
          // The worker's difference rebuilds the same pins on the main thread.
          const decoded = documentOf(
            decoder.decode(FILE, encoder.encodeEdit(FILE, reader.wrap(got), read)),
          );
          const sortedPins = (pins: readonly PinRecord[]) =>
            pins.map(content).sort((a, b) => a.key.localeCompare(b.key));
          t.deepEqual(sortedPins(decoded?.pins ?? []), sortedPins(want.pins), text);
          plain = read.plain;
        }
        return undefined;
      }),
      { numRuns },
    );
    // The comparison means something only if both roads were taken often.
    t.true(byLines > numRuns / 4, `${byLines} edits read by their lines`);
    t.true(whole > numRuns / 5, `${whole} edits read whole`);
    reportRow(t, import.meta.url, {
      section: "inputs",
      subject: `${reader.name} edits: read by the pins they touch vs read whole`,
      tried: `${numRuns} streams of up to 8 edits (fast-check)`,
      outcome: `identical documents, pins, places and worker differences; ${byLines} edits read by their lines, ${whole} read whole`,
    });
  });

test("an edit that appends, changes or removes one pin of many is read by its lines", (t) => {
  const pins = Array.from({ length: 500 }, (_, i) => `  r.example/t/s${i}:1: sha256:${hex(i % 7)}`);
  const text = ["apiVersion: digestpin.dev/v1alpha1", "kind: Policy", "pins:", ...pins, ""].join(
    "\n",
  );
  const fresh = (): PlainDocument => {
    const { plain } = checkPlainFile(FILE, text, true);
    if (plain === undefined) throw new Error("not plain");
    return plain;
  };
  const first = fresh();
  const appended = editPlainDocument(first, `${text}  r.example/t/new:1: sha256:${hex(8)}\n`);
  // The last pin is read again with it (the change begins where the last pin's lines end).
  const news = (edit: PlainEdit | undefined) =>
    edit?.added
      .filter(
        (pin) => !edit.removed.some((was) => was.key === pin.key && was.digest === pin.digest),
      )
      .map((pin) => [pin.key, pin.digest, pin.origin?.line]);
  t.deepEqual(news(appended), [["r.example/t/new:1", `sha256:${hex(8)}`, 504]]);
  t.true((appended?.added.length ?? 0) <= 2, "one pin read again, not 500");
  const changed = editPlainDocument(
    fresh(),
    text.replace(`s250:1: sha256:${hex(250 % 7)}`, `s250:1: sha256:${hex(9)}`),
  );
  t.deepEqual(news(changed), [["r.example/t/s250:1", `sha256:${hex(9)}`, 254]]);
  const removed = editPlainDocument(
    fresh(),
    text.replace(`  r.example/t/s10:1: sha256:${hex(10 % 7)}\n`, ""),
  );
  t.deepEqual(news(removed), []);
  t.true(removed?.removed.some((pin) => pin.key === "r.example/t/s10:1"));
  t.false(removed?.plain.keys.has("r.example/t/s10:1"));
  t.is(removed?.plain.records.length, 499);
  // A change of the settings, or a key pinned twice, is read whole.
  t.is(
    editPlainDocument(fresh(), text.replace("kind: Policy", "kind: Policy\nmode: warn")),
    undefined,
  );
  t.is(editPlainDocument(fresh(), `${text}  r.example/t/s3:1: sha256:${hex(1)}\n`), undefined);
});
