import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Agent, request } from "undici";
import { teardownList } from "../../test/harness/kube-shared.ts";
import { tempDir, type Teardown } from "../../test/harness/lifecycle.ts";
import { createTestCa } from "../../test/harness/test-ca.ts";
import type { Serving } from "./servers.ts";

/** What every group shares: clean-up, a scratch directory, and one serving certificate. */
export interface BenchContext extends Teardown {
  readonly dir: string;
  readonly serving: Serving;
  /** The CA of `serving`, which load processes trust. */
  readonly caPem: string;
  /** Writes `content` to a file in `dir` and returns its path. */
  file(name: string, content: string): Promise<string>;
  /** One POST of `body` to `url` (trusting `caPem`): the answer's status and text. */
  post(url: string, body: string): Promise<{ status: number; text: string }>;
  /** Prints a progress line on stderr (the table goes to stdout). */
  log(message: string): void;
  close(): Promise<void>;
}

export async function createContext(): Promise<BenchContext> {
  const teardowns = teardownList();
  const dir = await tempDir(teardowns, "bench");
  const ca = await createTestCa(dir, "digestpin bench CA");
  const serving = await ca.issue("webhook", ["127.0.0.1"]);
  const dispatcher = new Agent({ connect: { ca: ca.caPem } });
  const started = Date.now();
  return {
    dir,
    serving,
    caPem: ca.caPem,
    teardown: (fn) => {
      teardowns.teardown(fn);
    },
    async file(name, content) {
      const path = join(dir, name);
      await writeFile(path, content);
      return path;
    },
    async post(url, body) {
      const response = await request(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        dispatcher,
      });
      return { status: response.statusCode, text: await response.body.text() };
    },
    log(message) {
      const seconds = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
      process.stderr.write(`[bench ${seconds}s] ${message}\n`);
    },
    async close() {
      await dispatcher.close();
      await teardowns.run();
    },
  };
}
