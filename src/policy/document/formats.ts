/** Small syntactic checks of policy values; each returns why a value is wrong, or null. */

import { quote } from "../../errors.ts";

const SHA256 = /^sha256:[0-9a-f]{64}$/;

export function isSha256Digest(value: string): boolean {
  return SHA256.test(value);
}

export function digestProblem(value: string): string | null {
  return SHA256.test(value) ? null : `${quote(value)} is not a sha256 digest (64 lowercase hex)`;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

/** An RFC 3339 date-time, e.g. `2026-11-26T10:00:00Z` or `2026-11-26T11:00:00.5+01:00`. */
export function timestampProblem(value: string): string | null {
  const match = RFC3339.exec(value);
  if (match !== null) {
    const n = (group: number): number => Number(match[group] ?? 0);
    const dateOk = n(2) >= 1 && n(2) <= 12 && n(3) >= 1 && n(3) <= daysIn(n(1), n(2));
    const timeOk = n(4) <= 23 && n(5) <= 59 && n(6) <= 60 && n(7) <= 23 && n(8) <= 59;
    if (dateOk && timeOk) return null;
  }
  return `${quote(value)} is not an RFC 3339 time (e.g. "2026-11-26T10:00:00Z")`;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A Kubernetes namespace name (RFC 1123 label, at most 63 characters). */
export function namespaceProblem(value: string): string | null {
  if (value.length <= 63 && DNS_LABEL.test(value)) return null;
  return `${quote(value)} is not a namespace name (lowercase letters, digits and "-", at most 63)`;
}

/** A Kubernetes object name (RFC 1123 subdomain, at most 253 characters). */
export function objectNameProblem(value: string): string | null {
  if (value.length <= 253 && DNS_SUBDOMAIN.test(value)) return null;
  return `${quote(value)} is not a Kubernetes object name (lowercase letters, digits, "-" and ".")`;
}

const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9._-]+)?$/;

/** `os/architecture[/variant]`, e.g. `linux/amd64` or `linux/arm/v7`. */
export function platformProblem(value: string): string | null {
  if (PLATFORM.test(value)) return null;
  return `${quote(value)} is not a platform (os/architecture[/variant], e.g. "linux/arm64")`;
}
