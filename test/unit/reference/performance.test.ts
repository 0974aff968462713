import test from "ava";
import { tryParseReference } from "../../../src/reference/index.ts";

const n = 100_000;

/** Hostile inputs of about n characters, shaped to make a backtracking matcher work hard. */
const hostile: Record<string, (n: number) => string> = {
  "one long component": (n) => "a".repeat(n),
  "many components": (n) => "a/".repeat(n / 2),
  "many host labels": (n) => `${"a.".repeat(n / 2)}/x`,
  "run of dashes": (n) => `a${"-".repeat(n)}!`,
  "alternating underscores": (n) => `${"a_".repeat(n / 2)}!`,
  "dashed host": (n) => `${"a-".repeat(n / 2)}/x`,
  "long valid host": (n) => `${"a".repeat(n)}.com/x`,
  "colons in brackets": (n) => `[${":".repeat(n)}]/x`,
  "unclosed bracket": (n) => `[${"a".repeat(n)}`,
  "many colons": (n) => "a:".repeat(n / 2),
  "long tag": (n) => `a:${"b".repeat(n)}`,
  "long digest": (n) => `a@sha256:${"f".repeat(n)}`,
  "long algorithm": (n) => `a@${"a+".repeat(n / 2)}:${"f".repeat(64)}`,
  "dashed path": (n) => `x.com/${"a-".repeat(n / 2)}a`,
  uppercase: (n) => "A".repeat(n),
  "at signs": (n) => "@".repeat(n),
  "long port": (n) => `a.b:${"1".repeat(n)}/x`,
  "separator soup": (n) => "a._-__--".repeat(n / 8),
};

/** The fastest of a few parses of `input`, in ms: the least disturbed by a busy machine. */
function fastest(input: string): number {
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    tryParseReference(input);
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

// Machines are shared and noisy, so the test compares the parser with itself: a hundred times
// the input must cost about a hundred times the time (linear; a few hundred with garbage
// collection), never ten thousand (quadratic backtracking).
for (const [shape, make] of Object.entries(hostile)) {
  test(`parses 100k characters in linear time: ${shape}`, (t) => {
    const small = Math.max(fastest(make(n / 100)), 0.01);
    const large = fastest(make(n));
    t.true(large / small < 1000, `100× the input took ${(large / small).toFixed(0)}× the time`);
    t.true(large < 2000, `took ${large.toFixed(1)} ms`);
  });
}

test("rejects an over-long name with a short message", (t) => {
  const result = tryParseReference("a".repeat(n));
  t.false(result.ok);
  if (!result.ok) t.true(result.error.message.length < 300);
});
