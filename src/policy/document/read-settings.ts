import { isScalar, type Node } from "yaml";
import { quote } from "../../errors.ts";
import { parseDuration } from "./duration.ts";
import { namespaceProblem } from "./formats.ts";
import { globProblem } from "./glob.ts";
import { readNamespaceRules } from "./read-namespaces.ts";
import { readRegistries } from "./read-registries.ts";
import { readApprovals, readSignatureRules } from "./read-signatures.ts";
import {
  BASE_IMAGES_RULES,
  CONTROLLER_POD_ACTIONS,
  DEFAULT_DRIFT_SCAN,
  DEFAULT_SETTINGS,
  DRIFT_ACTIONS,
  MAX_CACHE_TTL_MS,
  MAX_DRIFT_SCAN_CONCURRENCY,
  MAX_DRIFT_SCAN_INTERVAL_MS,
  MIN_DRIFT_SCAN_INTERVAL_MS,
  MODES,
  REGISTRY_UNAVAILABLE_ACTIONS,
  REWRITES,
  UNPINNED_ACTIONS,
  type DriftScanSettings,
  type Exemptions,
  type Settings,
} from "./schema.ts";
import type { Entry, YamlReader } from "./yaml-reader.ts";

/** The keys of a Policy document besides apiVersion, kind and pins. */
export const SETTING_KEYS = [
  "mode",
  "unpinned",
  "drift",
  "controllerPods",
  "registryUnavailable",
  "rewrite",
  "cacheTTL",
  "registries",
  "exempt",
  "baseImages",
  "namespaces",
  "driftScan",
  "signatures",
  "approvals",
] as const;

/** The settings of a Policy document; an absent or null setting takes its default. */
export function readSettings(reader: YamlReader, fields: ReadonlyMap<string, Entry>): Settings {
  const node = (key: string): Node | null => fields.get(key)?.value ?? null;
  const choice = <T extends string>(key: string, values: readonly T[], fallback: T): T => {
    const value = node(key);
    return value === null ? fallback : (reader.oneOf(value, key, values) ?? fallback);
  };
  const registries = node("registries");
  const exempt = node("exempt");
  const cacheTTL = node("cacheTTL");
  const baseImages = node("baseImages");
  const namespaces = node("namespaces");
  const signaturesNode = node("signatures");
  const approvalsNode = node("approvals");
  const signatures =
    signaturesNode === null ? undefined : readSignatureRules(reader, signaturesNode);
  const approvals =
    approvalsNode === null ? undefined : readApprovals(reader, approvalsNode, signatures);
  const driftScan = node("driftScan");
  return {
    mode: choice("mode", MODES, DEFAULT_SETTINGS.mode),
    unpinned: choice("unpinned", UNPINNED_ACTIONS, DEFAULT_SETTINGS.unpinned),
    drift: choice("drift", DRIFT_ACTIONS, DEFAULT_SETTINGS.drift),
    controllerPods: choice(
      "controllerPods",
      CONTROLLER_POD_ACTIONS,
      DEFAULT_SETTINGS.controllerPods,
    ),
    registryUnavailable: choice(
      "registryUnavailable",
      REGISTRY_UNAVAILABLE_ACTIONS,
      DEFAULT_SETTINGS.registryUnavailable,
    ),
    rewrite: choice("rewrite", REWRITES, DEFAULT_SETTINGS.rewrite),
    cacheTTLMs: cacheTTL === null ? DEFAULT_SETTINGS.cacheTTLMs : readCacheTTL(reader, cacheTTL),
    registries: registries === null ? null : readRegistries(reader, registries, "registries"),
    exempt: exempt === null ? DEFAULT_SETTINGS.exempt : readExempt(reader, exempt),
    ...(baseImages !== null && { baseImages: choice("baseImages", BASE_IMAGES_RULES, "off") }),
    namespaces: namespaces === null ? [] : readNamespaceRules(reader, namespaces),
    ...(signatures !== undefined && signatures.length > 0 && { signatures }),
    ...(approvals !== undefined && { approvals }),
    ...(driftScan !== null && { driftScan: readDriftScan(reader, driftScan) }),
  };
}

/** `driftScan: { interval: 1h, concurrency: 4 }`; `interval: 0s` turns the scan off. */
function readDriftScan(reader: YamlReader, node: Node): DriftScanSettings {
  const fields = reader.fields(node, "driftScan", ["interval", "concurrency"]);
  const interval = fields?.get("interval")?.value ?? null;
  const concurrency = fields?.get("concurrency")?.value ?? null;
  let intervalMs = DEFAULT_DRIFT_SCAN.intervalMs;
  const text = interval === null ? undefined : reader.string(interval, "driftScan.interval");
  if (text !== undefined) {
    const parsed = parseDuration(text);
    if (!parsed.ok) reader.fail(interval, "driftScan.interval", parsed.problem);
    else if (
      parsed.ms !== 0 &&
      (parsed.ms < MIN_DRIFT_SCAN_INTERVAL_MS || parsed.ms > MAX_DRIFT_SCAN_INTERVAL_MS)
    )
      reader.fail(
        interval,
        "driftScan.interval",
        `${quote(text)} is outside 1s to 24h (0s turns the scan off)`,
      );
    else intervalMs = parsed.ms;
  }
  let workers = DEFAULT_DRIFT_SCAN.concurrency;
  if (concurrency !== null) {
    const value = isScalar(concurrency) ? concurrency.value : undefined;
    if (
      typeof value === "number" &&
      Number.isInteger(value) &&
      value >= 1 &&
      value <= MAX_DRIFT_SCAN_CONCURRENCY
    )
      workers = value;
    else
      reader.fail(
        concurrency,
        "driftScan.concurrency",
        `expected a whole number from 1 to ${MAX_DRIFT_SCAN_CONCURRENCY}`,
      );
  }
  return { intervalMs, concurrency: workers };
}

function readCacheTTL(reader: YamlReader, node: Node): number {
  const fallback = DEFAULT_SETTINGS.cacheTTLMs;
  const text = reader.string(node, "cacheTTL");
  if (text === undefined) return fallback;
  const parsed = parseDuration(text);
  if (!parsed.ok) {
    reader.fail(node, "cacheTTL", parsed.problem);
    return fallback;
  }
  if (parsed.ms > MAX_CACHE_TTL_MS) {
    reader.fail(node, "cacheTTL", `${quote(text)} is longer than the maximum, 1h`);
    return fallback;
  }
  return parsed.ms;
}

function readExempt(reader: YamlReader, node: Node): Exemptions {
  const fields = reader.fields(node, "exempt", ["namespaces", "images"]);
  const list = (key: string, problem: (value: string) => string | null): string[] => {
    const value = fields?.get(key)?.value ?? null;
    if (value === null) return [];
    const items = reader.strings(value, `exempt.${key}`) ?? [];
    const valid: string[] = [];
    for (const item of items) {
      const why = problem(item.value);
      if (why === null) valid.push(item.value);
      else reader.fail(item.node, item.path, why);
    }
    return valid;
  };
  return { namespaces: list("namespaces", namespaceProblem), images: list("images", globProblem) };
}
