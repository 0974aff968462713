import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const toolsScript = fileURLToPath(new URL("../../scripts/tools.sh", import.meta.url));
const paths = new Map<string, Promise<string>>();

/**
 * The path of a testbed program (scripts/tools.versions), building it from the Go module proxy
 * first if this machine has not yet. A tool that cannot be built fails the test with the reason.
 */
export function toolPath(name: string): Promise<string> {
  let path = paths.get(name);
  if (path === undefined) {
    path = promisify(execFile)(toolsScript, ["path", name], { maxBuffer: 64 << 20 }).then(
      ({ stdout }) => stdout.trim(),
      (error: unknown) => {
        const stderr = (error as { stderr?: string }).stderr ?? "";
        throw new Error(`cannot build testbed tool ${name}: ${stderr.slice(-4000)}`, {
          cause: error,
        });
      },
    );
    paths.set(name, path);
  }
  return path;
}
