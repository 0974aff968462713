import test from "ava";
import { formatDuration, parseDuration } from "../../../src/policy/document/duration.ts";

const ms = (text: string): number | string => {
  const result = parseDuration(text);
  return result.ok ? result.ms : result.problem;
};

test("reads units, fractions and sums", (t) => {
  t.is(ms("500ms"), 500);
  t.is(ms("30s"), 30_000);
  t.is(ms("5m"), 300_000);
  t.is(ms("1h"), 3_600_000);
  t.is(ms("1.5s"), 1_500);
  t.is(ms("1m30s"), 90_000);
  t.is(ms("0"), 0);
  t.is(ms("0s"), 0);
});

test("says what is wrong", (t) => {
  t.is(ms("30"), '"30" needs a unit: ms, s, m or h');
  t.is(ms(""), '"" is not a duration (e.g. "500ms", "30s", "5m", "1m30s")');
  t.is(ms("30 s"), '"30 s" is not a duration (e.g. "500ms", "30s", "5m", "1m30s")');
  t.is(ms("5d"), '"5d" is not a duration (e.g. "500ms", "30s", "5m", "1m30s")');
  t.is(ms("-1s"), '"-1s" is not a duration (e.g. "500ms", "30s", "5m", "1m30s")');
  t.is(ms("0.5ms"), '"0.5ms" is not a whole number of milliseconds');
});

test("formats with the largest unit that fits evenly", (t) => {
  t.is(formatDuration(0), "0s");
  t.is(formatDuration(30_000), "30s");
  t.is(formatDuration(300_000), "5m");
  t.is(formatDuration(3_600_000), "1h");
  t.is(formatDuration(1_500), "1500ms");
});
