import { createServer } from "node:net";

/**
 * A port on 127.0.0.1 that was free a moment ago, for programs that cannot listen on port 0
 * and report back (registry, etcd, kube-apiserver). The kernel hands out ephemeral ports in
 * sequence, so a port just released is not handed out again soon.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === "string") reject(new Error("no port"));
        else resolve(address.port);
      });
    });
  });
}
