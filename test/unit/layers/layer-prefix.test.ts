import test from "ava";
import {
  comparePrefix,
  describePrefix,
  prefixNote,
  type PrefixVerdict,
} from "../../../src/layers/layer-prefix.ts";

// How the current image's layers relate to the pinned image's.

const cases: [string[], string[], number | undefined, PrefixVerdict, string][] = [
  [
    ["a", "b"],
    ["a", "b"],
    undefined,
    "same-layers",
    "the same 2 layers; only the image config differs",
  ],
  [
    ["a"],
    ["a", "x"],
    undefined,
    "added-on-top",
    "the pinned image's 1 layer with 1 layer added on top",
  ],
  [
    ["a", "b"],
    ["a", "c"],
    undefined,
    "top-changed",
    "the same lower layers; the top layer differs (1 of 2 layers shared)",
  ],
  [["a"], ["b"], undefined, "top-changed", "the pinned image's only layer differs"],
  [
    ["a", "b", "c"],
    ["x", "b", "c"],
    undefined,
    "base-changed",
    "base layers changed: the current image shares only the first 0 of the pinned image's 3 layers",
  ],
  [
    ["a", "b", "c"],
    ["a", "b", "x"],
    2,
    "above-base-changed",
    "the base's 2 layers are unchanged; layers above them differ (2 of 3 layers shared)",
  ],
  [
    ["a", "b", "c"],
    ["a", "x", "c"],
    2,
    "base-changed",
    "base layers changed: the current image shares only the first 1 of the pinned image's 3 layers (its declared base has 2 layers)",
  ],
];

test("verdicts, with and without the declared base's layer count", (t) => {
  for (const [pinned, current, base, verdict, text] of cases) {
    const finding = comparePrefix("linux/amd64", pinned, current, base);
    t.is(finding.verdict, verdict, text);
    t.is(describePrefix(finding), text);
  }
});

test("the note puts a platform whose base layers changed first", (t) => {
  const findings = [
    comparePrefix("linux/amd64", ["a", "b"], ["a", "c"]),
    comparePrefix("linux/arm64", ["a", "b", "c"], ["x", "b", "c"]),
  ];
  t.is(
    prefixNote(findings),
    "Layers (linux/arm64): base layers changed: the current image shares only the first 0 of the pinned image's 3 layers.",
  );
  t.is(prefixNote([]), undefined);
});
