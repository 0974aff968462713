import { readFile } from "node:fs/promises";

const versionsFile = new URL("../../scripts/tools.versions", import.meta.url);

/** The version scripts/tools.versions pins for `name` (e.g. "v1.36.3"), for asserting on. */
export async function pinnedVersion(name: string): Promise<string> {
  const text = await readFile(versionsFile, "utf8");
  for (const line of text.split("\n")) {
    const [tool, version] = line.trim().split(/\s+/);
    if (tool === name && version !== undefined) return version;
  }
  throw new Error(`${name} is not in scripts/tools.versions`);
}
