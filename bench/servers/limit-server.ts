/**
 * The limit: the least an AdmissionReview webhook can do with node:https on this machine. It
 * reads the body, JSON.parses it and answers with a fixed AdmissionReview (the bytes digestpin
 * answers for the same review), with the same TLS settings as digestpin's listener.
 *
 *   node --import tsx bench/servers/limit-server.ts CERT KEY RESPONSE   → logs {"url": …}
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";

const [certFile, keyFile, responseFile] = process.argv.slice(2);
if (certFile === undefined || keyFile === undefined || responseFile === undefined)
  throw new Error("usage: limit-server.ts CERT KEY RESPONSE");
const answer = readFileSync(responseFile);
const server = createServer(
  { cert: readFileSync(certFile), key: readFileSync(keyFile), minVersion: "TLSv1.2" },
  (request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      JSON.parse(Buffer.concat(chunks).toString("utf8"));
      response.writeHead(200, {
        "content-type": "application/json; charset=utf-8",
        "content-length": answer.length,
      });
      response.end(answer);
    });
  },
);
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(
    JSON.stringify({ msg: "listening", url: `https://127.0.0.1:${port}` }) + "\n",
  );
});
process.once("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
});
