import test from "ava";
import { tryParseReference } from "../../../src/reference/index.ts";

const n = 100_000;

/** Hostile inputs of 100k characters, shaped to make a backtracking matcher work hard. */
const hostile: Record<string, string> = {
  "one long component": "a".repeat(n),
  "many components": "a/".repeat(n / 2),
  "many host labels": `${"a.".repeat(n / 2)}/x`,
  "run of dashes": `a${"-".repeat(n)}!`,
  "alternating underscores": `${"a_".repeat(n / 2)}!`,
  "dashed host": `${"a-".repeat(n / 2)}/x`,
  "long valid host": `${"a".repeat(n)}.com/x`,
  "colons in brackets": `[${":".repeat(n)}]/x`,
  "unclosed bracket": `[${"a".repeat(n)}`,
  "many colons": "a:".repeat(n / 2),
  "long tag": `a:${"b".repeat(n)}`,
  "long digest": `a@sha256:${"f".repeat(n)}`,
  "long algorithm": `a@${"a+".repeat(n / 2)}:${"f".repeat(64)}`,
  "dashed path": `x.com/${"a-".repeat(n / 2)}a`,
  uppercase: "A".repeat(n),
  "at signs": "@".repeat(n),
  "long port": `a.b:${"1".repeat(n)}/x`,
  "separator soup": "a._-__--".repeat(n / 8),
};

for (const [shape, input] of Object.entries(hostile)) {
  test(`parses 100k characters quickly: ${shape}`, (t) => {
    const start = performance.now();
    tryParseReference(input);
    const elapsed = performance.now() - start;
    t.true(elapsed < 250, `took ${elapsed.toFixed(1)} ms`);
  });
}

test("rejects an over-long name with a short message", (t) => {
  const result = tryParseReference("a".repeat(n));
  t.false(result.ok);
  if (!result.ok) t.true(result.error.message.length < 300);
});
