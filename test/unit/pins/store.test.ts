import test from "ava";
import fc from "fast-check";
import {
  dropPins,
  placePins,
  removePins,
  SHARD_TARGET_BYTES,
  StoreFullError,
  type StoreLayout,
} from "../../../src/pins/index.ts";
import { recordNode, renderEntry } from "../../../src/pins/pin-render.ts";
import {
  appendToShard,
  emptyShardText,
  shardEntries,
  shardPins,
} from "../../../src/pins/shard-text.ts";
import { checkPolicyDocument, type PinRecord } from "../../../src/policy/index.ts";
import { digest, HEADER } from "../policy/fixtures.ts";

const layout: StoreLayout = { namespace: "ns", prefix: "digestpin-pins", maxShards: 3 };
const PINS = "apiVersion: digestpin.dev/v1alpha1\nkind: Pins\n";

const recordOf = (i: number, extra: Partial<PinRecord> = {}): PinRecord => ({
  key: `registry.example/team/app${String(i)}:1.0`,
  digest: `sha256:${(i % 65536).toString(16).padStart(4, "0").repeat(16)}`,
  pinnedAt: "2026-11-26T10:00:00Z",
  pinnedBy: "digestpin (trust-on-first-use)",
  reason: `first used in namespace team-${String(i % 50)}`,
  history: [],
  ...extra,
});

function pinsIn(text: string): PinRecord[] {
  const result = checkPolicyDocument(text, "shard", { expect: "Pins" });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return [...result.document.pins];
}

test("new pins fill the open shard, then open the next; past the last shard the store is full", (t) => {
  const records = Array.from({ length: 5000 }, (_, i) => recordOf(i));
  const placed = placePins(layout, [], records);
  t.deepEqual([...placed.keys()], ["digestpin-pins-000", "digestpin-pins-001"]);
  const texts = [...placed.values()];
  for (const text of texts) t.true(Buffer.byteLength(text) <= SHARD_TARGET_BYTES);
  const back = texts.flatMap(pinsIn);
  t.deepEqual(
    back.map((p) => [p.key, p.digest, p.pinnedAt, p.pinnedBy, p.reason]),
    records.map((p) => [p.key, p.digest, p.pinnedAt, p.pinnedBy, p.reason]),
  );
  // The next pins go to the open shard (001), not to the full one.
  const shards = [...placed].map(([name, text]) => ({ name, text }));
  const more = placePins(layout, shards, [recordOf(9999)]);
  t.deepEqual([...more.keys()], ["digestpin-pins-001"]);
  t.throws(
    () =>
      placePins(
        layout,
        [],
        Array.from({ length: 15_000 }, (_, i) => recordOf(i)),
      ),
    {
      instanceOf: StoreFullError,
      message: /raise pinStore\.maxShards/,
    },
  );
});

test("a shard's pins read in one pass are those yaml reads", (t) => {
  const records = [
    recordOf(1),
    recordOf(2, { platforms: { "linux/amd64": digest("a") } }),
    recordOf(3, { history: [{ digest: digest("b"), replacedBy: "alice" }] }),
    { key: "localhost:5000/app:1", digest: digest("c"), history: [] },
  ];
  const text = appendToShard(emptyShardText(), records) ?? "";
  t.deepEqual(
    [...shardPins(text)],
    pinsIn(text).map((p) => [p.key, p.digest]),
  );
});

test("appending does not read yaml, and refuses a text that is not in the store's layout", (t) => {
  t.is(
    appendToShard(`${PINS}pins:\n  a:1: ${digest("1")}\nremoved: {}\n`, [recordOf(1)]),
    undefined,
  );
  t.is(appendToShard(`${PINS}pins: {a:1: ${digest("1")}}\n`, [recordOf(1)]), undefined);
  const appended = appendToShard(`${PINS}# mine\npins:\n  a:1: ${digest("1")}\n`, [recordOf(1)]);
  t.deepEqual(
    pinsIn(appended ?? "").map((p) => p.key),
    ["docker.io/library/a:1", recordOf(1).key],
  );
});

test("property: an entry written directly reads back as yaml's rendering of the record", (t) => {
  const text = fc.string({ minLength: 1, maxLength: 40 });
  t.notThrows(() => {
    fc.assert(
      fc.property(fc.nat(1_000_000), text, text, (i, pinnedBy, reason) => {
        const record = recordOf(i, { pinnedBy, reason });
        const direct = pinsIn(`${PINS}pins:\n${shardEntries([record])}`);
        const viaYaml = pinsIn(
          `${PINS}pins:\n${renderEntry(record.key, undefined, recordNode(record), 2).join("\n")}\n`,
        );
        return (
          JSON.stringify(direct.map(({ origin: _, ...p }) => p)) ===
          JSON.stringify(viaYaml.map(({ origin: _, ...p }) => p))
        );
      }),
      { numRuns: 500 },
    );
  });
});

test("a removed pin leaves force and keeps its digest first in its history, with who, when and why", (t) => {
  const text = `${HEADER}# team pins\npins:\n  a:1: ${digest("1")} # release\n  b:1:\n    digest: ${digest("2")}\n    pinnedBy: bob\n    history:\n      - digest: ${digest("3")}\n  c:1: ${digest("4")}\n`;
  const removed = removePins(text, ["docker.io/library/b:1", "docker.io/library/a:1"], {
    at: "2026-12-01T10:00:00Z",
    by: "alice",
    reason: "retired",
  });
  const result = checkPolicyDocument(removed, "policy.yaml");
  t.true(result.ok);
  if (!result.ok) return;
  t.deepEqual(
    result.document.pins.map((p) => p.key),
    ["docker.io/library/c:1"],
  );
  t.deepEqual(
    result.document.removed.map((r) => [r.key, r.history.map((h) => [h.digest, h.replacedBy])]),
    [
      [
        "docker.io/library/b:1",
        [
          [digest("2"), "alice"],
          [digest("3"), undefined],
        ],
      ],
      ["docker.io/library/a:1", [[digest("1"), "alice"]]],
    ],
  );
  t.true(removed.includes("# team pins\nremoved:\n"), "a new removed goes above pins");
  t.true(removed.includes(`  c:1: ${digest("4")}\n`), "other pins stay as written");
  t.throws(() => removePins(text, ["docker.io/library/z:1"], { at: "x", by: "y", reason: "z" }), {
    message: "docker.io/library/z:1 is not pinned here",
  });
});

test("dropping pins keeps every other line; dropping them all leaves an empty mapping", (t) => {
  const text = `${HEADER}mode: warn # trying\npins:\n  a:1: ${digest("1")}\n  b:1: ${digest("2")}\n`;
  t.is(
    dropPins(text, ["docker.io/library/a:1"]),
    `${HEADER}mode: warn # trying\npins:\n  b:1: ${digest("2")}\n`,
  );
  const none = dropPins(text, ["docker.io/library/a:1", "docker.io/library/b:1"]);
  t.is(none, `${HEADER}mode: warn # trying\npins: {}\n`);
  const result = checkPolicyDocument(none, "policy.yaml");
  t.true(result.ok && result.document.pins.length === 0);
});
