/** `2026-11-26T10:00:00Z`: an RFC 3339 time in UTC, whole seconds, as pins record it. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}
