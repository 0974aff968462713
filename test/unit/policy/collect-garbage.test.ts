import { setImmediate as nextTurn } from "node:timers/promises";
import test from "ava";
import { collectGarbage } from "../../../src/policy/sources/collect-garbage.ts";

// collectGarbage() is a real full collection, here as in `digestpin serve` (no --expose-gc).

test("collectGarbage collects what nothing refers to", async (t) => {
  let garbage: { readonly bytes: Uint8Array } | undefined = { bytes: new Uint8Array(1 << 20) };
  const ref = new WeakRef(garbage);
  garbage = undefined;
  await nextTurn(); // a WeakRef's target is kept to the end of the job that made it
  collectGarbage();
  t.is(ref.deref(), undefined);
  t.false("gc" in globalThis, "gc() is not put on this context's global");
});
