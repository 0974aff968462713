import test from "ava";
import fc from "fast-check";
import {
  formatIssue,
  mergePins,
  PinIndex,
  PinMerge,
  PolicyInvalidError,
  samePin,
  type PinRecord,
  type PinSource,
} from "../../src/policy/index.ts";

// A random stream of pin edits applied incrementally (PinMerge: only the sources that changed,
// the index made from the last one) gives the same pins, the same conflicts and the same
// messages as merging everything again (mergePins), and names exactly the keys that changed.

const KEYS = Array.from({ length: 10 }, (_, i) => `registry.example/team/app${i % 4}:v${i}`);
const DIGESTS = ["a", "b", "c"].map((c) => `sha256:${c.repeat(64)}`);
const SOURCES = [
  "policy.yaml",
  "configmap ns/pins-a",
  "configmap ns/pins-b",
  "configmap ns/pins-c",
];

type Edit =
  | { kind: "set"; source: number; key: number; digest: number; by: number; history: boolean }
  | { kind: "unset"; source: number; key: number }
  | { kind: "drop"; source: number }
  | { kind: "reread"; source: number }
  | { kind: "same" };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("set" as const),
      source: fc.nat(SOURCES.length - 1),
      key: fc.nat(KEYS.length - 1),
      digest: fc.nat(DIGESTS.length - 1),
      by: fc.nat(2),
      history: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("unset" as const),
      source: fc.nat(SOURCES.length - 1),
      key: fc.nat(KEYS.length - 1),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("drop" as const),
      source: fc.nat(SOURCES.length - 1),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("reread" as const),
      source: fc.nat(SOURCES.length - 1),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "same" as const }) },
);

/** What a source holds: key → [digest, pinnedBy, with history]; absent sources are not given. */
type World = Map<number, Map<number, readonly [number, number, boolean]>>;

/** The sources as a reader would give them: a new array (new records, new lines) when changed. */
function render(world: World, previous: Map<number, PinSource>, changed: Set<number>): PinSource[] {
  const sources: PinSource[] = [];
  for (let s = 0; s < SOURCES.length; s++) {
    const pins = world.get(s);
    if (pins === undefined) {
      previous.delete(s);
      continue;
    }
    const kept = previous.get(s);
    if (kept !== undefined && !changed.has(s)) {
      sources.push(kept);
      continue;
    }
    const source = SOURCES[s]!;
    const shift = Math.floor(Math.random() * 5);
    const records: PinRecord[] = [...pins].map(([key, [digest, by, history]], line) => ({
      key: KEYS[key]!,
      digest: DIGESTS[digest]!,
      ...(by > 0 && { pinnedBy: `person${by}` }),
      history: history ? [{ digest: DIGESTS[(digest + 1) % DIGESTS.length]! }] : [],
      origin: { source, line: line + 4 + shift, column: 3 },
    }));
    const built = { source, pins: records };
    previous.set(s, built);
    sources.push(built);
  }
  return sources;
}

function full(sources: readonly PinSource[]): PinIndex | readonly string[] {
  try {
    return mergePins(sources);
  } catch (error) {
    if (error instanceof PolicyInvalidError) return error.issues.map(formatIssue).sort();
    throw error;
  }
}

/** The pins of an index without where they were read: what a decision can see. */
function contents(index: PinIndex): Map<string, Omit<PinRecord, "origin">> {
  return new Map([...index.records()].map(({ origin: _, ...rest }) => [rest.key, rest] as const));
}

test("incremental merges equal full merges over random edit streams", (t) => {
  fc.assert(
    fc.property(fc.array(edit, { minLength: 1, maxLength: 40 }), (edits) => {
      const world: World = new Map([[0, new Map()]]);
      const rendered = new Map<number, PinSource>();
      const merge = new PinMerge();
      let lastGood: PinIndex = PinIndex.empty;
      for (const step of edits) {
        const changed = new Set<number>();
        if (step.kind === "set") {
          const pins = world.get(step.source) ?? new Map();
          pins.set(step.key, [step.digest, step.by, step.history]);
          world.set(step.source, pins);
          changed.add(step.source);
        } else if (step.kind === "unset") {
          world.get(step.source)?.delete(step.key);
          changed.add(step.source);
        } else if (step.kind === "drop" && step.source > 0) {
          world.delete(step.source);
        } else if (step.kind === "reread") {
          changed.add(step.source);
        }
        const sources = render(world, rendered, changed);
        const expected = full(sources);
        const got = merge.update(sources);
        if (Array.isArray(expected)) {
          if (got.ok) return false;
          t.deepEqual(got.issues.map(formatIssue).sort(), expected);
          continue;
        }
        if (!got.ok) return false;
        const want = contents(expected as PinIndex);
        t.deepEqual(contents(got.index), want);
        t.is(got.index.size, want.size);
        for (const digest of DIGESTS) {
          for (let r = 0; r < 4; r++) {
            const name = `registry.example/team/app${r}`;
            const uses = (index: PinIndex) =>
              index
                .usesOf(name, digest)
                .map((use) => `${use.key} ${use.platform ?? ""}`)
                .sort();
            t.deepEqual(uses(got.index), uses(expected as PinIndex));
          }
        }
        const changedKeys = KEYS.filter((key) => {
          const before = lastGood.get(key);
          const after = got.index.get(key);
          return before === undefined || after === undefined
            ? before !== after
            : !samePin(before, after);
        });
        t.deepEqual([...got.changed].sort(), changedKeys.sort());
        lastGood = got.index;
      }
      return true;
    }),
    { numRuns: 300 },
  );
});

test("an index made by changes shares what did not change and leaves the old one as it was", (t) => {
  const records: PinRecord[] = Array.from({ length: 5000 }, (_, i) => ({
    key: `registry.example/team/app${i}:v1`,
    digest: `sha256:${i.toString(16).padStart(64, "0")}`,
    history: [],
  }));
  const before = PinIndex.of(records);
  const added: PinRecord = { key: "registry.example/new:v1", digest: DIGESTS[0]!, history: [] };
  const after = before.with(
    new Map<string, PinRecord | null>([
      [added.key, added],
      [records[7]!.key, null],
    ]),
  );
  t.is(before.size, 5000);
  t.is(after.size, 5000);
  t.is(before.get(added.key), undefined);
  t.is(after.get(added.key), added);
  t.is(before.get(records[7]!.key), records[7]);
  t.is(after.get(records[7]!.key), undefined);
  t.deepEqual(before.usesOf("registry.example/team/app7", records[7]!.digest).length, 1);
  t.deepEqual(after.usesOf("registry.example/team/app7", records[7]!.digest), []);
  t.is(after.get(records[8]!.key), records[8]);
  t.is(after.with(new Map()), after, "no change, same index");
});
