import test from "ava";
import { PolicyInvalidError } from "../../../src/policy/document/issues.ts";
import { addPins } from "../../../src/pins/pin-edit.ts";
import {
  editPolicy,
  PolicyConflictError,
  viewOf,
  type PolicySnapshot,
  type PolicyStore,
} from "../../../src/pins/policy-store.ts";
import { digest, HEADER } from "./fixtures.ts";

// Read, edit, write with optimistic concurrency, against an in-memory store.

const PINS = "apiVersion: digestpin.dev/v1alpha1\nkind: Pins\n";

/** A store whose documents someone else may change between a read and a write. */
function memoryStore(
  texts: Record<string, string>,
  meddle?: (texts: Record<string, string>) => void,
) {
  let version = 0;
  let reads = 0;
  const store: PolicyStore<PolicySnapshot & { version: number }> & { reads(): number } = {
    description: "memory",
    pinsGoTo: "memory",
    placePins: (snapshot, records) => {
      const first = snapshot.documents[0];
      return new Map(first === undefined ? [] : [[first.name, addPins(first.text, records).text]]);
    },
    read: () => {
      reads++;
      const documents = Object.entries(texts).map(([name, text], index) => ({
        name,
        kind: index === 0 ? ("Policy" as const) : ("Pins" as const),
        text,
        owned: true,
      }));
      return Promise.resolve({ documents, version });
    },
    write: (snapshot, changes) => {
      meddle?.(texts);
      meddle = undefined;
      if (Object.values(texts).join() !== snapshot.documents.map((d) => d.text).join()) {
        version++;
        return Promise.reject(new PolicyConflictError("memory"));
      }
      for (const [name, text] of changes) {
        if (text === null) Reflect.deleteProperty(texts, name);
        else texts[name] = text;
      }
      version++;
      return Promise.resolve();
    },
    reads: () => reads,
  };
  return store;
}

test("views tell which documents pin a key", async (t) => {
  const store = memoryStore({
    "policy.yaml": `${HEADER}pins:\n  a:1: ${digest("1")}\n`,
    "more.yaml": `${PINS}pins:\n  a:1: ${digest("1")}\n  b:1: ${digest("2")}\n`,
  });
  const view = viewOf(await store.read());
  t.deepEqual(
    view.holders("docker.io/library/a:1").map((d) => d.name),
    ["policy.yaml", "more.yaml"],
  );
  t.deepEqual(
    view.holders("docker.io/library/b:1").map((d) => d.name),
    ["more.yaml"],
  );
  t.deepEqual(view.holders("docker.io/library/c:1"), []);
});

test("an edit that lost a race is redone on what the other writer wrote", async (t) => {
  const texts = { "policy.yaml": `${HEADER}pins: {}\n` };
  const store = memoryStore(texts, (current) => {
    current["policy.yaml"] = `${HEADER}pins:\n  a:1: ${digest("9")}\n`;
  });
  const result = await editPolicy(store, (view) => {
    const record = { key: "docker.io/library/a:1", digest: digest("1"), history: [] };
    const target = view.snapshot.documents[0]!;
    const { text, outcomes } = addPins(target.text, [record]);
    return { changes: new Map([[target.name, text]]), result: outcomes[0]?.outcome };
  });
  t.is(result, "conflict", "the second round saw the other writer's pin and kept it");
  t.is(store.reads(), 2);
  t.is(texts["policy.yaml"], `${HEADER}pins:\n  a:1: ${digest("9")}\n`);
});

test("dry runs and edits without changes write nothing; invalid policies are refused", async (t) => {
  const texts = { "policy.yaml": `${HEADER}pins: {}\n` };
  const store = memoryStore(texts);
  const changed = (view: { snapshot: PolicySnapshot }) => ({
    changes: new Map([[view.snapshot.documents[0]!.name, `${HEADER}mode: warn\n`]]),
    result: "edited",
  });
  t.is(await editPolicy(store, changed, { dryRun: true }), "edited");
  t.is(texts["policy.yaml"], `${HEADER}pins: {}\n`);
  const broken = memoryStore({ "policy.yaml": `${HEADER}mode: strict\n` });
  await t.throwsAsync(editPolicy(broken, changed), { instanceOf: PolicyInvalidError });
});
