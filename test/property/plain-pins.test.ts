import test from "ava";
import fc from "fast-check";
import { checkPolicyDocument, type DocumentKind } from "../../src/policy/index.ts";
import { readPlainPins } from "../../src/policy/document/plain-pins.ts";
import { reportRow } from "../helpers/reliability.ts";

// Large pin blocks are read line by line (plain-pins.ts) instead of by yaml. That road must
// never change a result: for any document, checkPolicyDocument gives exactly what it gives
// with yaml alone — the same pins with the same origins, or the same located messages.

const SOURCE = "configmap digestpin-system/pins";
const hex = (seed: number): string => seed.toString(16).padStart(2, "0").repeat(32);

// Mostly what digestpin and people write (so the line-by-line road is taken often), with
// every hostile shape mixed in.
const often = <T>(usual: fc.Arbitrary<T>, rare: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ weight: 5, arbitrary: usual }, { weight: 1, arbitrary: rare });

const key = often(
  fc.nat({ max: 400 }).map((n) => `r.example/t${n % 3}/s${n}:1.${n % 4}`),
  fc.constantFrom(
    "r.example/t1/s1:1.0.0",
    "r.example/t1/s2:1.0.0",
    "busybox:1.36",
    "docker.io/library/busybox:1.36",
    "library/busybox:1.36",
    "localhost:5000/app:v1",
    "ghcr.io/acme/api:v2.3.1",
    "Ghcr.io/acme/api:v2",
    "ghcr.io/Acme/api:v2",
    "ghcr.io/acme/api",
    `ghcr.io/acme/api@sha256:${hex(1)}`,
    `ghcr.io/acme/api:v1@sha256:${hex(1)}`,
    '"ghcr.io/acme/q:1"',
    "'ghcr.io/acme/q:1'",
    "a/b:1 #c",
    "&x a/b:1",
    "? a/b:1",
    "- a/b:1",
    "true",
    "1.5",
    "a:b",
    "a/b:" + "t".repeat(129),
    "x/" + "y".repeat(1100) + ":1",
    "a/b:1 ",
  ),
);
const digest = often(
  fc.integer({ min: 0, max: 3 }).map((n) => `sha256:${hex(n)}`),
  fc.constantFrom(
    `sha256:${hex(1).toUpperCase()}`,
    "sha256:abc",
    `"sha256:${hex(2)}"`,
    `'sha256:${hex(2)}'`,
    `sha256:${hex(2)} # pinned`,
    `sha512:${hex(1)}${hex(1)}`,
    "~",
    "null",
    "",
    "[]",
    `{digest: sha256:${hex(3)}}`,
  ),
);
const text = often(
  fc.constantFrom('"2026-11-20T09:12:00Z"', "ci@acme.example.com", "release pipeline"),
  fc.constantFrom(
    '"2026-11-20T09:12:00Z"',
    "2026-11-20T09:12:00Z",
    '"2026-13-01T00:00:00Z"',
    "ci@acme.example.com",
    "release pipeline",
    "Release (hotfix); approved by ops, ticket OPS-12",
    '"quoted # not a comment"',
    '"with \\" escape"',
    "'single quoted'",
    "trailing comment # here",
    "a: b",
    "ends with colon:",
    "yes",
    "True",
    "NULL",
    "~",
    "",
    "[a]",
    "|",
    "&a anchored",
    "*a",
    "!!str tagged",
    "%percent",
    "1.0",
    "x ",
  ),
);
const field = fc.oneof(
  { weight: 3, arbitrary: digest.map((value) => `digest: ${value}`) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom("pinnedAt", "pinnedBy", "reason"), text)
      .map(([name, value]) => `${name}: ${value}`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "platforms: {}",
      `history: []`,
      "unknown: x",
      "digest:",
      "# a comment",
      "",
    ),
  },
);
const spaces = (n: number): string => " ".repeat(n);
const pin = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(key, digest, fc.constantFrom(2, 2, 2, 1, 4))
      .map(([k, d, indent]) => [`${spaces(indent)}${k}: ${d}`]),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        key,
        often(
          fc
            .tuple(digest, fc.array(field, { maxLength: 3 }))
            .map(([d, rest]) => [`digest: ${d}`, ...rest]),
          fc.array(field, { maxLength: 5 }),
        ),
        fc.constantFrom(2, 2, 2, 4),
        fc.constantFrom(2, 2, 2, 1, 4),
      )
      .map(([k, fields, indent, deeper]) => [
        `${spaces(indent)}${k}:`,
        ...fields.map((f) => `${spaces(indent + deeper)}${f}`),
      ]),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      [""],
      ["# a comment"],
      ["  # an indented comment"],
      ["      continued words"],
      ["\tr.example/t/tab:1: sha256:" + hex(1)],
      ["  - r.example/t/list:1"],
    ),
  },
);
const header = often<readonly string[]>(
  fc.constantFrom(
    ["apiVersion: digestpin.dev/v1alpha1", "kind: Pins"],
    ["apiVersion: digestpin.dev/v1alpha1", "kind: Policy", "mode: warn"],
  ),
  fc.constantFrom(
    ["apiVersion: digestpin.dev/v1alpha1", "kind: Policy"],
    ["apiVersion: digestpin.dev/v1alpha1", "kind: Pins"],
    ["apiVersion: digestpin.dev/v1alpha1", "kind: Policy", "mode: warn", "unpinned: deny"],
    ["kind: Policy"],
    ["%YAML 1.1", "---", "apiVersion: digestpin.dev/v1alpha1", "kind: Policy"],
    ["---", "apiVersion: digestpin.dev/v1alpha1", "kind: Pins"],
    ["{apiVersion: digestpin.dev/v1alpha1, kind: Pins,"],
    ["apiVersion: digestpin.dev/v1alpha1", "kind: Pins", "pins: {}"],
    ["apiVersion: digestpin.dev/v1alpha1", "kind: Pins", '"pins":'],
    ["# pins for team a", "apiVersion: digestpin.dev/v1alpha1", "kind: Pins"],
  ),
);
const trailer = often<readonly string[]>(
  fc.constant([]),
  fc.constantFrom(
    ["mode: audit"],
    ["pins:"],
    ["}"],
    ["---", "kind: Pins"],
    ["..."],
    ["# the end"],
    ["exempt:", "  namespaces: [kube-system]"],
  ),
);
const document = fc
  .tuple(
    header,
    fc.array(pin, { maxLength: 8 }),
    trailer,
    often(fc.constant("\n"), fc.constant("\r\n")),
  )
  .map(([head, pins, tail, eol]) => [...head, "pins:", ...pins.flat(), ...tail].join(eol) + eol);

test("reading pins line by line gives exactly what yaml alone gives", (t) => {
  const numRuns = 5000;
  let plainRoad = 0;
  let accepted = 0;
  // One memo of pin keys across every case, as the parse worker keeps it across edits.
  const pinKeys = new Map<string, string | null>();
  fc.assert(
    fc.property(
      document,
      fc.constantFrom<DocumentKind | undefined>("Policy", "Pins", undefined),
      (source, expect) => {
        const options = expect === undefined ? {} : { expect };
        const withPlain = checkPolicyDocument(source, SOURCE, options);
        const yamlAlone = checkPolicyDocument(source, SOURCE, { ...options, plainPins: false });
        t.deepEqual(withPlain, yamlAlone, source);
        t.deepEqual(
          checkPolicyDocument(source, SOURCE, { ...options, pinKeys }),
          withPlain,
          source,
        );
        if (withPlain.ok) accepted++;
        if (withPlain.ok && readPlainPins(source) !== undefined) plainRoad++;
      },
    ),
    { numRuns },
  );
  // The comparison means something only if both roads were taken often.
  t.true(plainRoad > numRuns / 20, `${plainRoad} documents read line by line`);
  t.true(accepted - plainRoad > numRuns / 50, `${accepted - plainRoad} accepted by yaml alone`);
  reportRow(t, import.meta.url, {
    section: "inputs",
    subject: "policy parser: pins read line by line vs yaml alone",
    tried: `${numRuns} cases (fast-check)`,
    outcome: `identical results; ${plainRoad} accepted on the line-by-line road, ${accepted - plainRoad} by yaml alone, ${numRuns - accepted} rejected`,
  });
});

test("a large block in the shapes digestpin writes is read line by line, with its lines", (t) => {
  const lines = ["apiVersion: digestpin.dev/v1alpha1", "kind: Pins", "pins:"];
  for (let i = 0; i < 300; i++) {
    if (i % 2 === 0) lines.push(`  r.example/t/s${i}:1.0: sha256:${hex(i % 256)}`);
    else
      lines.push(
        `  r.example/t/s${i}:1.0:`,
        `    digest: sha256:${hex(i % 256)}`,
        `    pinnedAt: "2026-11-20T09:12:00Z"`,
        `    pinnedBy: ci@acme.example.com`,
        `    reason: release pipeline`,
      );
  }
  const source = lines.join("\n") + "\n";
  const block = readPlainPins(source);
  t.is(block?.pins.length, 300);
  t.deepEqual(
    checkPolicyDocument(source, SOURCE),
    checkPolicyDocument(source, SOURCE, { plainPins: false }),
  );
});
