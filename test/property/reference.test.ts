import assert from "node:assert/strict";
import test from "ava";
import fc from "fast-check";
import { canonicalOf, parseReference, tryParseReference } from "../../src/reference/index.ts";
import { reportRow } from "../helpers/reliability.ts";
import { anyString, hostileChar, mutated, referenceLike } from "./arbitraries.ts";

// The reference parser reads every image string of every pod: whatever it is given, it answers
// (a reference, or an error saying what is wrong) at once, and never throws past tryParse.
// test/unit/reference/property.test.ts covers round trips; this covers hostile input.

/** A parse slower than this is a hang (generous: the machine is shared). */
const SLOW_MS = 500;

/** tryParseReference's contract on one input; returns how long it took. */
function checkOne(input: string): number {
  const started = performance.now();
  const result = tryParseReference(input);
  const elapsed = performance.now() - started;
  if (result.ok) {
    // Whatever was accepted is a reference the node reads the same way: canonical form reparses.
    assert.deepEqual(parseReference(canonicalOf(result.reference)), result.reference);
    assert.ok(result.reference.tag !== null || result.reference.digest !== null);
  } else {
    assert.equal(result.error.code, "ERR_INVALID_REFERENCE");
    assert.equal(result.error.input, input);
    const message = result.error.message;
    assert.ok(message.length > 0 && message.length < 2000, `message length ${message.length}`);
    // The input is quoted (JSON), so it cannot forge a log line or a terminal escape.
    const raw = ["\n", "\r", "\u0000", "\u001b"].filter((c) => message.includes(c));
    assert.deepEqual(raw, [], `raw control character in ${message}`);
  }
  return elapsed;
}

const families: [string, fc.Arbitrary<string>, number][] = [
  ["any unicode, binary and hostile-fragment strings", anyString, 4000],
  ["plausible references (registry, path, tag, digest, some wrong)", referenceLike, 3000],
  ["plausible references with up to 4 edits", mutated(referenceLike), 4000],
  [
    "long runs of grammar characters (up to 20k)",
    fc
      .tuple(
        fc.array(hostileChar, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 5000 }),
      )
      .map(([parts, n]) => parts.join("").repeat(n)),
    300,
  ],
];

for (const [family, arbitrary, numRuns] of families) {
  test(`never throws, always explains: ${family}`, (t) => {
    let slowest = 0;
    let accepted = 0;
    const started = performance.now();
    fc.assert(
      fc.property(arbitrary, (input) => {
        slowest = Math.max(slowest, checkOne(input));
        if (tryParseReference(input).ok) accepted++;
      }),
      { numRuns },
    );
    const seconds = (performance.now() - started) / 1000;
    t.true(slowest < SLOW_MS, `slowest parse ${slowest.toFixed(1)} ms`);
    reportRow(t, import.meta.url, {
      section: "inputs",
      subject: `reference parser: ${family}`,
      tried: `${numRuns} cases (fast-check)`,
      outcome: `0 throws; ${accepted} accepted, ${numRuns - accepted} rejected with a message; slowest ${slowest.toFixed(1)} ms; ${seconds.toFixed(1)} s`,
    });
  });
}
