import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

/** One line of the registry's access log (gorilla/handlers combined log format, on stdout). */
export interface AccessLogEntry {
  readonly user: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly userAgent: string;
}

/** An access-log entry for `/v2/NAME/manifests/REFERENCE`. */
export interface ManifestRequest extends AccessLogEntry {
  readonly repository: string;
  /** A tag or a digest. */
  readonly reference: string;
}

export interface ManifestRequestFilter {
  readonly repository?: string;
  readonly reference?: string;
  readonly method?: string;
}

// 127.0.0.1 - - [02/Jan/2006:15:04:05 -0700] "GET /v2/app/manifests/1.0 HTTP/1.1" 200 527 "" "ua"
const LINE = /^\S+ \S+ (\S+) \[[^\]]+\] "(\S+) (\S+) [^"]*" (\d{3}) \S+ "[^"]*" "([^"]*)"$/;
const MANIFEST_PATH = /^\/v2\/(.+)\/manifests\/([^/?]+)(?:\?.*)?$/;

/**
 * The access log entries in `logFile`. The registry writes a line after it answers, and the
 * line then passes a pipe, so this waits until the file stops growing (`settleMs`).
 */
export async function readAccessLog(logFile: string, settleMs = 100): Promise<AccessLogEntry[]> {
  let text = await readFile(logFile, "utf8");
  for (;;) {
    await sleep(settleMs);
    const again = await readFile(logFile, "utf8");
    if (again === text) break;
    text = again;
  }
  const entries: AccessLogEntry[] = [];
  for (const line of text.split("\n")) {
    const match = LINE.exec(line);
    if (match === null) continue;
    const [, user = "", method = "", path = "", status = "", userAgent = ""] = match;
    entries.push({ user, method, path, status: Number(status), userAgent });
  }
  return entries;
}

/** The manifest requests among `entries`, optionally only those matching `filter`. */
export function manifestRequests(
  entries: readonly AccessLogEntry[],
  filter: ManifestRequestFilter = {},
): ManifestRequest[] {
  const requests: ManifestRequest[] = [];
  for (const entry of entries) {
    const match = MANIFEST_PATH.exec(entry.path);
    if (match === null) continue;
    const [, repository = "", reference = ""] = match;
    const request = { ...entry, repository, reference: decodeURIComponent(reference) };
    if (filter.repository !== undefined && filter.repository !== repository) continue;
    if (filter.reference !== undefined && filter.reference !== request.reference) continue;
    if (filter.method !== undefined && filter.method !== entry.method) continue;
    requests.push(request);
  }
  return requests;
}
