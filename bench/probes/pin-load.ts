/**
 * Loading N pins from a policy file, in a fresh process (as `digestpin serve` starts): the YAML
 * parse, the validation (checkPolicyDocument, which parses again: validation = its time minus
 * the parse alone), the index (assemblePolicy: merge, PinIndex), the memory the policy holds,
 * and what a lookup costs. Run with --expose-gc.
 *
 *   node --expose-gc --import tsx bench/probes/pin-load.ts [--yaml-only] POLICY.yaml KEY…
 *
 * prints one JSON line. --yaml-only reads the pins with yaml as well (checkPolicyDocument's
 * plainPins: false), as digestpin did before it read pin blocks line by line.
 */
import { readFile } from "node:fs/promises";
import { LineCounter, parseDocument } from "yaml";
import { assemblePolicy } from "../../src/policy/sources/assemble.ts";
import { checkPolicyDocument } from "../../src/policy/document/document.ts";
import { decide } from "../../src/policy/decide/decide.ts";

const args = process.argv.slice(2);
const yamlOnly = args[0] === "--yaml-only";
const [file, ...keys] = yamlOnly ? args.slice(1) : args;
if (file === undefined || keys.length === 0) throw new Error("usage: pin-load.ts POLICY.yaml KEY…");
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

// Measured once, cold, in a fresh process: serve loads its policy at start the same way.
gc();
const rssBefore = process.memoryUsage().rss;
const heapBefore = process.memoryUsage().heapUsed;
let t = performance.now();
const text = await readFile(file, "utf8");
const readMs = performance.now() - t;
t = performance.now();
const checked = checkPolicyDocument(text, file, { expect: "Policy", plainPins: !yamlOnly });
const checkMs = performance.now() - t;
t = performance.now();
const assembled = assemblePolicy(checked, []);
const indexMs = performance.now() - t;
if (!assembled.ok) throw new Error(JSON.stringify(assembled.issues.slice(0, 3)));
const policy = assembled.policy;
const peakRss = process.memoryUsage().rss;
gc();
const rssAfter = process.memoryUsage().rss;
const heapAfter = process.memoryUsage().heapUsed;
// The YAML parse alone, for the split between parsing and validating (after the cold load).
t = performance.now();
parseDocument(text, {
  lineCounter: new LineCounter(),
  prettyErrors: false,
  version: "1.2",
  uniqueKeys: false,
});
const parseMs = performance.now() - t;

const lookups = 1_000_000;
let found = 0;
t = performance.now();
for (let i = 0; i < lookups; i++)
  if (policy.pins.get(keys[i % keys.length] ?? "") !== undefined) found++;
const lookupNs = ((performance.now() - t) * 1e6) / lookups;
const context = { namespace: "shop", dryRun: false };
const decisions = 200_000;
t = performance.now();
for (let i = 0; i < decisions; i++) decide(keys[i % keys.length] ?? "", context, policy);
const decideUs = ((performance.now() - t) * 1e3) / decisions;
process.stdout.write(
  JSON.stringify({
    pins: policy.pins.size,
    bytes: Buffer.byteLength(text),
    readMs,
    checkMs,
    parseMs,
    indexMs,
    loadMs: readMs + checkMs + indexMs,
    heapBytes: heapAfter - heapBefore,
    rssAddedBytes: rssAfter - rssBefore,
    peakRssAddedBytes: peakRss - rssBefore,
    lookupNs,
    found: found === lookups,
    decideUs,
  }) + "\n",
);
