import test from "ava";
import { checkPolicyDocument } from "../../../src/policy/document/document.ts";
import { HEADER, policyOf } from "./fixtures.ts";

// driftScan: { interval, concurrency } (docs/policy.md).

test("driftScan is read: absent, both keys, 0s turns it off, defaults for what is left out", (t) => {
  t.is(policyOf("").settings.driftScan, undefined);
  t.deepEqual(policyOf("driftScan:\n  interval: 2s\n  concurrency: 8\n").settings.driftScan, {
    intervalMs: 2000,
    concurrency: 8,
  });
  t.deepEqual(policyOf("driftScan:\n  interval: 0s\n").settings.driftScan, {
    intervalMs: 0,
    concurrency: 4,
  });
  t.deepEqual(policyOf("driftScan:\n  concurrency: 1\n").settings.driftScan, {
    intervalMs: 3_600_000,
    concurrency: 1,
  });
});

test("driftScan: a bad interval, concurrency or key is an issue with its line", (t) => {
  const issues = (text: string): string => {
    const result = checkPolicyDocument(`${HEADER}${text}`, "policy.yaml");
    return result.ok ? "" : JSON.stringify(result.issues);
  };
  t.regex(issues("driftScan:\n  interval: 500ms\n"), /driftScan.interval.*outside 1s to 24h/);
  t.regex(issues("driftScan:\n  interval: 25h\n"), /outside 1s to 24h/);
  t.regex(issues("driftScan:\n  interval: soon\n"), /not a duration/);
  t.regex(issues("driftScan:\n  concurrency: 0\n"), /driftScan.concurrency.*1 to 64/);
  t.regex(issues("driftScan:\n  concurrency: 2.5\n"), /1 to 64/);
  t.regex(issues("driftScan:\n  every: 1h\n"), /unknown key \\"every\\"/);
});
