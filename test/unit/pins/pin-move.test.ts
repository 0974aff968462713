import test from "ava";
import { parse } from "yaml";
import { movePin } from "../../../src/pins/index.ts";
import type { PolicySnapshot, PolicyStore } from "../../../src/pins/policy-store.ts";
import type { PinMove } from "../../../src/policy/index.ts";
import { digest, HEADER } from "../policy/fixtures.ts";

// A moved tag approved by signatures: its pin moves where it is written, as `digestpin approve`
// moves it, and only in digestpin's own documents.

const [OLD, NEW, OTHER, SIG] = ["a", "b", "c", "d"].map(digest) as [string, string, string, string];
const KEY = "ghcr.io/acme/app:1";
const PINS = "apiVersion: digestpin.dev/v1alpha1\nkind: Pins\n";

function store(texts: Record<string, string>, owned = true) {
  let writes = 0;
  const memory: PolicyStore & { writes(): number } = {
    description: "memory",
    pinsGoTo: "memory",
    placePins: () => new Map(),
    read: () =>
      Promise.resolve<PolicySnapshot>({
        documents: Object.entries(texts).map(([name, text], index) => ({
          name,
          kind: index === 0 ? "Policy" : "Pins",
          text,
          owned: index === 0 || owned,
        })),
      }),
    write: (_snapshot, changes) => {
      writes++;
      for (const [name, text] of changes) if (text !== null) texts[name] = text;
      return Promise.resolve();
    },
    writes: () => writes,
  };
  return memory;
}

const move: PinMove = {
  key: KEY,
  from: OLD,
  digest: NEW,
  pinnedBy: "signature qa (sha256:0123456789ab)",
  reason: `signed ${NEW}: signature ${SIG} (bundle)`,
};

const shard = `${PINS}pins:\n  ${KEY}:\n    digest: ${OLD}\n    pinnedAt: "2026-11-01T10:00:00Z"\n    pinnedBy: digestpin (trust-on-first-use)\n`;

test("the pin moves to the signed digest, the old one first in its history naming the signer", async (t) => {
  const texts = { policy: `${HEADER}unpinned: deny\n`, "digestpin-pins-000": shard };
  const pinned = await movePin(store(texts), move, new Date("2026-12-02T12:00:00Z"));
  t.is(pinned, NEW);
  const pin = (parse(texts["digestpin-pins-000"]) as { pins: Record<string, any> }).pins[KEY];
  t.like(pin, {
    digest: NEW,
    pinnedAt: "2026-12-02T12:00:00Z",
    pinnedBy: move.pinnedBy,
    reason: move.reason,
  });
  t.deepEqual(pin.history, [
    {
      digest: OLD,
      pinnedAt: "2026-11-01T10:00:00Z",
      pinnedBy: "digestpin (trust-on-first-use)",
      replacedAt: "2026-12-02T12:00:00Z",
      replacedBy: move.pinnedBy,
      replaceReason: move.reason,
    },
  ]);
});

test("a pin that changed meanwhile is left as it is, and its digest returned", async (t) => {
  const texts = {
    policy: `${HEADER}unpinned: deny\n`,
    "digestpin-pins-000": shard.replace(OLD, OTHER),
  };
  const memory = store(texts);
  t.is(await movePin(memory, move), OTHER);
  t.is(memory.writes(), 0);
  const moved = {
    policy: `${HEADER}unpinned: deny\n`,
    "digestpin-pins-000": shard.replace(OLD, NEW),
  };
  t.is(await movePin(store(moved), move), NEW, "already moved by another replica");
});

test("a pin outside digestpin's pin store is not moved, saying where to move it", async (t) => {
  const texts = { policy: `${HEADER}unpinned: deny\n`, "team-pins": shard };
  const error = await t.throwsAsync(movePin(store(texts, false), move));
  t.is((error as { code?: string }).code, "ERR_PIN_NOT_OURS");
  t.regex(
    error.message,
    /approvals by signature move pins in digestpin's pin store only; move it there with 'digestpin pins migrate'/,
  );
});
