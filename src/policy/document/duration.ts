import { quote } from "../../errors.ts";

/** Milliseconds per unit; "ms" is matched before "m". */
const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };
const PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/y;

export type DurationResult =
  { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly problem: string };

/**
 * A duration as Kubernetes and Go write them: one or more `<number><unit>` with units h, m, s,
 * ms (`500ms`, `30s`, `1.5s`, `1m30s`), or `0`. The total must be whole milliseconds.
 */
export function parseDuration(text: string): DurationResult {
  const expected = `${quote(text)} is not a duration (e.g. "500ms", "30s", "5m", "1m30s")`;
  if (text === "0") return { ok: true, ms: 0 };
  if (text === "") return { ok: false, problem: expected };
  let ms = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const match = PART.exec(text);
    if (match === null) {
      const unitless = /^\d+(\.\d+)?$/.test(text);
      return {
        ok: false,
        problem: unitless ? `${quote(text)} needs a unit: ms, s, m or h` : expected,
      };
    }
    ms += Number(match[1]) * (UNIT_MS[match[2] ?? ""] ?? Number.NaN);
  }
  const whole = Math.round(ms);
  if (Math.abs(whole - ms) > 1e-6) {
    return { ok: false, problem: `${quote(text)} is not a whole number of milliseconds` };
  }
  return { ok: true, ms: whole };
}

/** `30000` → "30s", `1500` → "1500ms", `300000` → "5m": the largest unit that divides evenly. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  for (const [unit, size] of Object.entries(UNIT_MS)) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
