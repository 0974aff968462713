import { readFileSync } from "node:fs";

/**
 * digestpin's version, package.json's: src/ and dist/ both sit one folder below it, in the
 * repository, the npm package and the image alike. Read once, at import.
 */
export const digestpinVersion: string = readVersion();

function readVersion(): string {
  try {
    const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === "string" ? version : "unknown";
  } catch {
    return "unknown";
  }
}
