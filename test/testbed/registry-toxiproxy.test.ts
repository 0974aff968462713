import test from "ava";
import {
  createCrane,
  httpsRequest,
  startRegistry,
  startToxiproxy,
  type HttpsResponse,
} from "../harness/testbed.ts";

// toxiproxy in front of the real registry: its faults are observed by clients.

const timed = async (request: () => Promise<HttpsResponse>): Promise<number> => {
  const started = performance.now();
  const response = await request();
  if (response.status !== 200) throw new Error(`status ${response.status}: ${response.body}`);
  return performance.now() - started;
};

test("a 300 ms latency toxic delays requests through the proxy until it is removed", async (t) => {
  const registry = await startRegistry(t, { auth: "none" });
  const toxiproxy = await startToxiproxy(t);
  const proxy = await toxiproxy.proxy("registry", registry.host);
  t.regex(proxy.host, /^127\.0\.0\.1:\d+$/);
  t.not(proxy.host, registry.host);

  // Each request opens a new TLS connection through the proxy.
  const probe = () => httpsRequest(`https://${proxy.host}/v2/`, { ca: registry.caPem });
  const baseline = await timed(probe);
  const toxic = await proxy.latency(300);
  const delayed = await timed(probe);
  await proxy.removeToxic(toxic);
  const restored = await timed(probe);
  t.log(
    `baseline ${baseline.toFixed(0)} ms, latency toxic ${delayed.toFixed(0)} ms, removed ${restored.toFixed(0)} ms`,
  );
  t.true(baseline < 300);
  t.true(delayed >= 300);
  t.true(restored < 300);

  // crane, a Go client, sees the same registry (same certificate) through the proxy.
  const crane = await createCrane(t, registry);
  const pushed = await crane.pushRandomImage(registry.ref("faults/app:1.0"));
  t.is(await crane.digest(`${proxy.host}/faults/app:1.0`), pushed.digest);
});

test("a cut proxy refuses connections, and works again when enabled", async (t) => {
  const registry = await startRegistry(t, { auth: "none" });
  const toxiproxy = await startToxiproxy(t);
  const proxy = await toxiproxy.proxy("registry", registry.host);
  const probe = () => httpsRequest(`https://${proxy.host}/v2/`, { ca: registry.caPem });
  t.is((await probe()).status, 200);
  await proxy.disable();
  await t.throwsAsync(probe(), { code: "ECONNREFUSED" });
  await proxy.enable();
  t.is((await probe()).status, 200);

  await proxy.resetPeer();
  await t.throwsAsync(probe(), { code: "ECONNRESET" });
  await toxiproxy.reset();
  t.is((await probe()).status, 200);
});
