import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import test from "ava";
import fc from "fast-check";
import {
  buildPolicy,
  checkPolicyDocument,
  decide,
  PolicyInvalidError,
  type DocumentKind,
  type PolicyIssue,
} from "../../src/policy/index.ts";
import { answerReview } from "../../src/webhook/review-answer.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { Metrics } from "../../src/observability/metrics.ts";
import { reportRow } from "../helpers/reliability.ts";
import { worldDeps } from "./admission-world.ts";
import { anyString, hostileChar, mutated } from "./arbitraries.ts";

// The policy parser reads whatever someone put in a ConfigMap: it never throws and never
// hangs, accepts only what it can use, and gives every rejected document located messages.

const SOURCE = "configmap digestpin-system/digestpin-policy";
const example = readFileSync(new URL("../../examples/policy.yaml", import.meta.url), "utf8");

const hex64 = fc.string({
  unit: fc.constantFrom(...Array.from("0123456789abcdef")),
  minLength: 64,
  maxLength: 64,
});
const yamlScalar = fc.oneof(
  fc.constantFrom(
    "~",
    "null",
    "[]",
    "{}",
    "&a x",
    "*a",
    "*undefined",
    "!!binary aGk=",
    "!!str",
    "!foo bar",
    '"\\u0000"',
    "0x10",
    "1e400",
    ".nan",
    "-1",
    "99999999999999999999",
    "<<: *a",
    "? complex",
    "|",
    ">-",
    "'unterminated",
    "sha256:xyz",
    "enforce",
    "trust-on-first-use",
    "use-pin",
    "30s",
    "0",
    "2h",
    "true",
    "*",
    "- item",
    "---",
    "...",
    "%YAML 1.1",
  ),
  hex64.map((h) => `sha256:${h}`),
  anyString.map((s) => JSON.stringify(s)),
);

/** A pin key that is valid: a name and a tag, no digest. */
const pinKey = fc
  .tuple(
    fc.constantFrom("", "docker.io/", "ghcr.io/acme/", "registry.example.com:5000/"),
    fc.array(
      fc.string({ unit: fc.constantFrom(...Array.from("abcxyz019")), minLength: 1, maxLength: 6 }),
      {
        minLength: 1,
        maxLength: 3,
      },
    ),
    fc.constantFrom("1.36", "latest", "v1", "v2.3.1-rc_1"),
  )
  .map(([registry, path, tag]) => `${registry}${path.join("/")}:${tag}`);

/** A valid Policy or Pins document built from random settings and pins. */
const generatedDocument = fc
  .record({
    kind: fc.constantFrom("Policy", "Pins"),
    mode: fc.constantFrom("enforce", "warn", "audit"),
    unpinned: fc.constantFrom("deny", "trust-on-first-use", "resolve", "allow"),
    cacheTTL: fc.constantFrom("0", "500ms", "30s", "1m30s"),
    registries: fc.array(fc.constantFrom("docker.io", "ghcr.io", "*.example.com", "*"), {
      maxLength: 3,
    }),
    pins: fc.uniqueArray(fc.tuple(pinKey, hex64), { maxLength: 8, selector: ([key]) => key }),
  })
  .map(({ kind, mode, unpinned, cacheTTL, registries, pins }) => {
    const header = `apiVersion: digestpin.dev/v1alpha1\nkind: ${kind}\n`;
    const settings =
      kind === "Pins"
        ? ""
        : `mode: ${mode}\nunpinned: ${unpinned}\ncacheTTL: ${cacheTTL}\n` +
          (registries.length === 0
            ? ""
            : `registries:\n${[...new Set(registries)].map((h) => `  - host: "${h}"\n`).join("")}`);
    const body = pins.map(([key, h]) => `  "${key}": sha256:${h}\n`).join("");
    return `${header}${settings}pins:${body === "" ? " {}\n" : `\n${body}`}`;
  });

const validBase = fc.oneof(fc.constant(example), generatedDocument);

/** Line-level damage: delete, duplicate, swap, re-indent, or replace a value with odd YAML. */
const lineEdit = fc.record({
  kind: fc.constantFrom("delete", "duplicate", "swap", "indent", "dedent", "value", "insert"),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  other: fc.double({ min: 0, max: 1, noNaN: true }),
  value: yamlScalar,
});
const lineMutated = fc
  .tuple(validBase, fc.array(lineEdit, { minLength: 1, maxLength: 5 }))
  .map(([text, edits]) => {
    const lines = text.split("\n");
    for (const e of edits) {
      const i = Math.floor(e.at * lines.length);
      const j = Math.floor(e.other * lines.length);
      const line = lines[i] ?? "";
      switch (e.kind) {
        case "delete":
          lines.splice(i, 1);
          break;
        case "duplicate":
          lines.splice(i, 0, line);
          break;
        case "swap":
          [lines[i], lines[j]] = [lines[j] ?? "", line];
          break;
        case "indent":
          lines[i] = `  ${line}`;
          break;
        case "dedent":
          lines[i] = line.replace(/^ {1,2}/, "");
          break;
        case "value":
          lines[i] = line.includes(":")
            ? line.replace(/:.*$/, `: ${e.value}`)
            : `${line} ${e.value}`;
          break;
        case "insert":
          lines.splice(i, 0, `${" ".repeat(j % 6)}${e.value}`);
          break;
      }
    }
    return lines.join("\n");
  });

/** Aliases that expand exponentially if anything walks them naively ("billion laughs"). */
const aliasBomb = fc.integer({ min: 2, max: 12 }).map((depth) => {
  const levels = [`l0: &l0 ["sha256:${"a".repeat(64)}"]`];
  for (let i = 1; i <= depth; i++) {
    levels.push(
      `l${i}: &l${i} [${Array(10)
        .fill(`*l${i - 1}`)
        .join(", ")}]`,
    );
  }
  const top = `*l${depth}`;
  return `apiVersion: digestpin.dev/v1alpha1\nkind: Policy\n${levels.join("\n")}\nexempt:\n  namespaces: ${top}\n  images: ${top}\nregistries: ${top}\npins:\n  "busybox:1": ${top}\n  "busybox:2": {digest: ${top}, history: ${top}, platforms: ${top}}\n`;
});

const families: [string, fc.Arbitrary<string>, number][] = [
  ["any text", anyString, 3000],
  [
    "any text after a valid header",
    anyString.map((s) => `apiVersion: digestpin.dev/v1alpha1\nkind: Policy\n${s}`),
    2000,
  ],
  ["generated valid documents", generatedDocument, 1000],
  ["valid documents with up to 5 line edits", lineMutated, 2000],
  ["valid documents with up to 6 character edits", mutated(validBase, 6), 1500],
  ["alias bombs (10^2..10^12 expansions)", aliasBomb, 50],
  [
    "grammar characters repeated (up to 40k)",
    fc
      .tuple(
        fc.array(hostileChar, { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 10_000 }),
      )
      .map(([p, n]) => p.join("").repeat(n)),
    100,
  ],
];

function checkIssues(issues: readonly PolicyIssue[], text: string): void {
  assert.ok(issues.length > 0, "rejected without an issue");
  const lines = text.split(/\r\n|\r|\n/).length;
  for (const issue of issues) {
    assert.equal(issue.source, SOURCE);
    assert.equal(typeof issue.message, "string");
    assert.ok(issue.message.trim().length > 0, "empty message");
    assert.ok(issue.line >= 1 && issue.line <= lines + 1, `line ${issue.line} of ${lines}`);
    assert.ok(issue.column >= 0);
  }
}

for (const [family, arbitrary, numRuns] of families) {
  test(`checkPolicyDocument never throws, explains every rejection: ${family}`, (t) => {
    let slowest = 0;
    let accepted = 0;
    let issues = 0;
    const started = performance.now();
    fc.assert(
      fc.property(
        arbitrary,
        fc.constantFrom<DocumentKind | undefined>("Policy", "Pins", undefined),
        (text, expect) => {
          const begun = performance.now();
          const result = checkPolicyDocument(text, SOURCE, expect === undefined ? {} : { expect });
          slowest = Math.max(slowest, performance.now() - begun);
          if (!result.ok) {
            checkIssues(result.issues, text);
            issues += result.issues.length;
            return;
          }
          accepted++;
          const { document } = result;
          if (expect !== undefined) assert.equal(document.kind, expect);
          if (document.kind !== "Policy") return;
          // An accepted policy builds (or names its conflicting pins) and decides any image.
          try {
            const policy = buildPolicy(document);
            for (const image of [
              "busybox:1.36",
              "ghcr.io/acme/api:v2.3.1",
              "x@sha256:" + "a".repeat(64),
            ])
              assert.ok(
                ["allow", "deny", "lookup", "mutate"].includes(
                  decide(image, { namespace: "team", dryRun: false }, policy).action,
                ),
              );
          } catch (error) {
            assert.ok(error instanceof PolicyInvalidError, String(error));
          }
        },
      ),
      { numRuns },
    );
    const seconds = (performance.now() - started) / 1000;
    t.true(slowest < 3000, `slowest check ${slowest.toFixed(0)} ms`);
    reportRow(t, import.meta.url, {
      section: "inputs",
      subject: `policy parser: ${family}`,
      tried: `${numRuns} cases (fast-check)`,
      outcome: `0 throws; ${accepted} accepted, ${numRuns - accepted} rejected with ${issues} located messages; slowest ${slowest.toFixed(1)} ms; ${seconds.toFixed(1)} s`,
    });
  });
}

test("policy ConfigMap edits through /validate: refused with a message exactly when invalid", async (t) => {
  const deps = {
    ...worldDeps(),
    policyLocation: { namespace: "digestpin-system", policy: "digestpin-policy" },
    metrics: new Metrics(),
    logger: silentLogger(),
  };
  let refused = 0;
  let cases = 0;
  await t.notThrowsAsync(
    fc.assert(
      fc.asyncProperty(
        fc.oneof(lineMutated, generatedDocument, anyString),
        fc.constantFrom("policy", "pins"),
        fc.constantFrom("CREATE", "UPDATE"),
        async (text, which, operation) => {
          const isPolicy = which === "policy";
          const key = isPolicy ? "policy.yaml" : "pins.yaml";
          const name = isPolicy ? "digestpin-policy" : "team-pins";
          const answer = await answerReview(
            "validate",
            {
              apiVersion: "admission.k8s.io/v1",
              kind: "AdmissionReview",
              request: {
                uid: "cm",
                kind: { group: "", version: "v1", kind: "ConfigMap" },
                resource: { group: "", version: "v1", resource: "configmaps" },
                namespace: "digestpin-system",
                name,
                operation,
                object: {
                  apiVersion: "v1",
                  kind: "ConfigMap",
                  metadata: {
                    name,
                    namespace: "digestpin-system",
                    ...(!isPolicy && { labels: { "digestpin.dev/pins": "true" } }),
                  },
                  data: { [key]: text },
                },
              },
            },
            deps,
          );
          cases++;
          const response = (answer.body as { response: Record<string, any> }).response;
          const valid = checkPolicyDocument(text, SOURCE, {
            expect: isPolicy ? "Policy" : "Pins",
          }).ok;
          assert.equal(answer.status, 200);
          assert.equal(response.uid, "cm");
          assert.equal(response.allowed, valid);
          if (!valid) {
            refused++;
            assert.equal(response.status?.code, 422);
            assert.ok(
              typeof response.status?.message === "string" && response.status.message.length > 0,
            );
          }
        },
      ),
      { numRuns: 1500 },
    ),
  );
  reportRow(t, import.meta.url, {
    section: "inputs",
    subject:
      "policy and pins ConfigMap edits through /validate (validate-policy.digestpin.dev): any text, damaged and generated documents",
    tried: `${cases} cases (fast-check)`,
    outcome: `0 throws, 0 internal errors; ${refused} refused (422, with the issues), ${cases - refused} admitted, each exactly when checkPolicyDocument accepts the text`,
  });
});
