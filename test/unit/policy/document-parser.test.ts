import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { checkPolicyDocument, checkPolicyFile, DocumentParser } from "../../../src/policy/index.ts";

// Large documents are checked in a worker thread; the result is the one checked at once.

const pinsText = (count: number, extra = "") =>
  [
    "apiVersion: digestpin.dev/v1alpha1",
    "kind: Pins",
    "pins:",
    ...Array.from(
      { length: count },
      (_, i) =>
        `  registry.example/team/app${i}:v1:\n    digest: sha256:${i.toString(16).padStart(64, "0")}\n    pinnedBy: alice`,
    ),
    extra,
  ].join("\n");

/** What a result is as data (a worker's answer has no undefined properties). */
const asData = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

test("a large pins document checked in the worker equals the one checked at once", async (t) => {
  const parser = new DocumentParser();
  t.teardown(() => parser.close());
  const text = pinsText(2000);
  t.true(text.length > 64 * 1024, "large enough for the worker");
  const result = await parser.document(text, "configmap ns/big", "Pins");
  t.true(result.ok);
  t.deepEqual(result, asData(checkPolicyDocument(text, "configmap ns/big", { expect: "Pins" })));
  if (result.ok) t.is(result.document.pins.length, 2000);
  t.is(parser.offThread, 1, "checked in the worker");
});

test("issues come back from the worker with their lines; files too", async (t) => {
  const parser = new DocumentParser();
  t.teardown(() => parser.close());
  const broken = pinsText(2000, "  registry.example/bad:v1: sha256:abc\n");
  const result = await parser.document(broken, "configmap ns/big", "Pins");
  t.false(result.ok);
  t.deepEqual(result, asData(checkPolicyDocument(broken, "configmap ns/big", { expect: "Pins" })));
  const file = await parser.file("pins.yaml", Buffer.from(pinsText(1500)), false);
  t.deepEqual(file, asData(checkPolicyFile({ file: "pins.yaml", text: pinsText(1500) }, false)));
  t.is(file.pins.length, 1);
  t.is(parser.offThread, 2);
});

test("small documents are checked at once, and the parser works again after close", async (t) => {
  const parser = new DocumentParser();
  const small = pinsText(3);
  const direct = checkPolicyDocument(small, "s", { expect: "Pins" });
  t.deepEqual(await parser.document(small, "s", "Pins"), direct);
  t.is(parser.offThread, 0);
  await parser.close();
  const again = await parser.document(pinsText(2000), "b", "Pins");
  t.true(again.ok);
  t.is(parser.offThread, 1);
  await parser.close();
});

test("a file checked again comes back as the difference of its pins, rebuilt to the same pins", async (t) => {
  const parser = new DocumentParser();
  t.teardown(() => parser.close());
  const first = pinsText(2000);
  await parser.file("pins.yaml", Buffer.from(first), false);
  t.is(parser.differences, 0);
  const lines = first.split("\n");
  // One pin more, inserted near the top; the last one changed.
  lines.splice(
    3,
    0,
    `  registry.example/new:v1:\n    digest: sha256:${"e".repeat(64)}\n    pinnedBy: bob`,
  );
  const joined = lines.join("\n");
  const last = joined.lastIndexOf("pinnedBy: alice");
  const second = `${joined.slice(0, last)}pinnedBy: carol${joined.slice(last + "pinnedBy: alice".length)}`;
  const got = await parser.file("pins.yaml", Buffer.from(second), false);
  t.is(parser.differences, 1, "sent as a difference");
  const want = checkPolicyFile({ file: "pins.yaml", text: second }, false);
  const pins = (file: typeof got) => {
    const [result] = file.pins;
    if (!result?.ok) throw new Error("not ok");
    return new Map(
      result.document.pins
        .map(({ origin: _, ...rest }) => [rest.key, rest] as const)
        .sort(([a], [b]) => a.localeCompare(b)),
    );
  };
  t.deepEqual(pins(got), new Map([...pins(want)].map(([key, value]) => [key, asData(value)])));
  t.is(pins(got).get("registry.example/team/app1999:v1")?.pinnedBy, "carol");
  parser.forget();
  await parser.file("pins.yaml", Buffer.from(second), false);
  t.is(parser.differences, 0, "whole again after forget()");
});

/** A pins file of `count` pins with the last one's pinnedBy changed to `who`. */
const edited = (count: number, who: string) => {
  const text = pinsText(count);
  const at = text.lastIndexOf("pinnedBy: alice");
  return `${text.slice(0, at)}pinnedBy: ${who}${text.slice(at + "pinnedBy: alice".length)}`;
};

test("a file checked at once starts no worker, and its next check still comes back as a difference", async (t) => {
  const parser = new DocumentParser();
  t.teardown(() => parser.close());
  const first = pinsText(2000);
  const atOnce = parser.fileAtOnce("pins.yaml", Buffer.from(first), false);
  t.deepEqual(atOnce, checkPolicyFile({ file: "pins.yaml", text: first }, false));
  t.is(parser.offThread, 0, "no worker for the first load");
  const second = edited(2000, "dave");
  const got = await parser.file("pins.yaml", Buffer.from(second), false);
  t.is(parser.offThread, 1);
  t.is(parser.differences, 1, "the worker read the first bytes too, and sent a difference");
  const [result] = got.pins;
  const [want] = checkPolicyFile({ file: "pins.yaml", text: second }, false).pins;
  if (!result?.ok || !want?.ok) return t.fail("not ok");
  t.is(result.document.pins.length, 2000);
  t.deepEqual(
    result.document.pins.map((pin) => [pin.key, pin.digest, pin.pinnedBy]),
    want.document.pins.map((pin) => [pin.key, pin.digest, pin.pinnedBy]),
  );
});

test("a worker out of memory is started again with more; its check is done at once meanwhile", async (t) => {
  const parser = new DocumentParser({ heapMiB: 16 });
  t.teardown(() => parser.close());
  const text = pinsText(20_000);
  const want = asData(checkPolicyDocument(text, "configmap ns/big", { expect: "Pins" }));
  const first = await parser.document(text, "configmap ns/big", "Pins");
  t.deepEqual(asData(first), want, "checked at once when the worker ran out of memory");
  t.is(parser.offThread, 0);
  // Each worker that runs out is followed by one with twice the heap, until one has enough.
  for (let tries = 0; tries < 5 && parser.offThread === 0; tries++)
    t.deepEqual(asData(await parser.document(text, "configmap ns/big", "Pins")), want);
  t.is(parser.offThread, 1, "a later check runs in a worker with a larger heap");
});

test("a document checked at once comes back as a difference at its next check", async (t) => {
  const parser = new DocumentParser();
  t.teardown(() => parser.close());
  const first = pinsText(2000);
  const atOnce = parser.documentAtOnce(first, "configmap ns/pins-000", "Pins");
  t.deepEqual(atOnce, checkPolicyDocument(first, "configmap ns/pins-000", { expect: "Pins" }));
  t.is(parser.offThread, 0, "no worker for the first load");
  const second = edited(2000, "erin");
  const got = await parser.document(second, "configmap ns/pins-000", "Pins");
  t.is(parser.differences, 1, "sent as a difference");
  const want = checkPolicyDocument(second, "configmap ns/pins-000", { expect: "Pins" });
  if (!got.ok || !want.ok) return t.fail("not ok");
  t.deepEqual(
    got.document.pins.map((pin) => [pin.key, pin.digest, pin.pinnedBy]),
    want.document.pins.map((pin) => [pin.key, pin.digest, pin.pinnedBy]),
  );
});

test("a large file checked once is read by the worker: unchanged, a difference, or why it cannot be read", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "parser-read-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "pins.yaml");
  const parser = new DocumentParser();
  t.teardown(() => parser.close());
  const first = pinsText(2000);
  await writeFile(file, first);
  t.false(parser.reads(file));
  parser.fileAtOnce(file, Buffer.from(first), false);
  t.true(parser.reads(file), "a large file is the worker's to read from now on");
  t.false(parser.reads("small.yaml"));
  t.is(await parser.readFile(file, false), "unchanged", "the bytes checked at once, handed over");
  const second = edited(2000, "frank");
  await writeFile(file, second);
  const got = await parser.readFile(file, false);
  if (got === undefined || got === "unchanged" || "error" in got)
    return t.fail(JSON.stringify(got));
  t.is(parser.differences, 1, "a difference");
  const [result] = got.pins;
  const [want] = checkPolicyFile({ file, text: second }, false).pins;
  if (!result?.ok || !want?.ok) return t.fail("not ok");
  t.deepEqual(
    result.document.pins.map((pin) => [pin.key, pin.digest, pin.pinnedBy]),
    want.document.pins.map((pin) => [pin.key, pin.digest, pin.pinnedBy]),
  );
  t.is(await parser.readFile(file, false), "unchanged");
  await rm(file);
  const gone = await parser.readFile(file, false);
  t.true(
    typeof gone === "object" && "error" in gone && gone.error.includes("ENOENT"),
    JSON.stringify(gone),
  );
  await writeFile(file, second);
  const back = await parser.readFile(file, false);
  t.true(typeof back === "object" && "pins" in back, "read whole again after it was missing");
});
