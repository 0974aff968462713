import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tempDir, type Teardown } from "./lifecycle.ts";
import { createTestCa, type TestCa } from "./test-ca.ts";

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A registry impostor on 127.0.0.1 whose every answer the test scripts: for the lies and
 * faults a real registry will not produce on demand (wrong digests, endless bodies, redirects
 * to metadata addresses, foreign token realms). Counts the requests it served.
 */
export interface ScriptedRegistry {
  readonly host: string;
  readonly url: string;
  readonly ca: TestCa;
  readonly requests: { method: string; url: string; authorization: string | undefined }[];
  handle(handler: Handler): void;
}

export async function startScriptedRegistry(t: Teardown, ca?: TestCa): Promise<ScriptedRegistry> {
  const testCa = ca ?? (await createTestCa(await tempDir(t, "scripted-registry")));
  const serving = await testCa.issue("scripted-registry", ["127.0.0.1", "localhost"]);
  let handler: Handler = (_req, res) => res.writeHead(404).end();
  const requests: ScriptedRegistry["requests"] = [];
  const server = createServer({ cert: serving.cert, key: serving.key }, (req, res) => {
    requests.push({
      method: req.method ?? "",
      url: req.url ?? "",
      authorization: req.headers.authorization,
    });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  );
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    url: `https://${host}`,
    ca: testCa,
    requests,
    handle(next) {
      handler = next;
    },
  };
}
