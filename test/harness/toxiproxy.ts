import { join } from "node:path";
import { tempDir, type Teardown } from "./lifecycle.ts";
import { freePort } from "./ports.ts";
import { startService, waitUntilReady, type Service } from "./service.ts";
import { toolPath } from "./tools.ts";

export type ToxicType =
  "latency" | "bandwidth" | "timeout" | "reset_peer" | "slow_close" | "slicer" | "limit_data";

/** A toxic as toxiproxy's API takes it (attributes per type: see toxiproxy's README). */
export interface Toxic {
  readonly type: ToxicType;
  readonly name?: string;
  /** `downstream` (upstream → client, the default) or `upstream` (client → upstream). */
  readonly stream?: "upstream" | "downstream";
  /** Probability that a connection is affected, 0..1 (default 1). */
  readonly toxicity?: number;
  readonly attributes?: Readonly<Record<string, number>>;
}

/** A TCP proxy in front of `upstream`, whose faults a test switches on and off. */
export interface Proxy {
  readonly name: string;
  /** `127.0.0.1:PORT`, where clients connect instead of `upstream`. */
  readonly host: string;
  readonly upstream: string;
  /** Adds a toxic; resolves to its name (for `removeToxic`). */
  addToxic(toxic: Toxic): Promise<string>;
  removeToxic(name: string): Promise<void>;
  /** Delays data by `ms` (± `jitter`). */
  latency(ms: number, jitter?: number): Promise<string>;
  /** Limits the rate to `kbPerSecond` KB/s. */
  bandwidth(kbPerSecond: number): Promise<string>;
  /** Stops all data; closes the connection after `ms` (0: never). */
  timeout(ms: number): Promise<string>;
  /** Resets connections (TCP RST) after `ms`. */
  resetPeer(ms?: number): Promise<string>;
  /** Cuts the proxy: closes its connections and refuses new ones. */
  disable(): Promise<void>;
  enable(): Promise<void>;
}

export interface Toxiproxy {
  /** The API, http://127.0.0.1:PORT. */
  readonly url: string;
  readonly logFile: string;
  /** Creates a proxy on a free port of 127.0.0.1 in front of `upstream` (host:port). */
  proxy(name: string, upstream: string): Promise<Proxy>;
  /** Enables every proxy and removes every toxic. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** toxiproxy-server on a free port of 127.0.0.1; stopped on teardown. */
export async function startToxiproxy(t: Teardown): Promise<Toxiproxy> {
  const dir = await tempDir(t, "toxiproxy");
  const logFile = join(dir, "toxiproxy.log");
  const command = await toolPath("toxiproxy-server");
  let service: Service | undefined;
  let url = "";
  // The port is free when chosen but might be taken before the server binds it: try again.
  for (let attempt = 1; service === undefined; attempt++) {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const started = startService({
      name: "toxiproxy-server",
      command,
      args: ["-host", "127.0.0.1", "-port", String(port)],
      logFile,
    });
    t.teardown(() => started.stop());
    try {
      await waitUntilReady(started, async () => (await fetch(`${url}/version`)).ok, 30_000);
      service = started;
    } catch (error) {
      await started.stop();
      if (attempt === 3) throw error;
    }
  }
  const api = apiClient(url);
  const running = service;
  return {
    url,
    logFile,
    async proxy(name, upstream) {
      const created = (await api("POST", "/proxies", {
        name,
        upstream,
        listen: "127.0.0.1:0",
        enabled: true,
      })) as { listen: string };
      return proxyHandle(api, name, created.listen, upstream);
    },
    reset: async () => {
      await api("POST", "/reset");
    },
    stop: () => running.stop(),
  };
}

type Api = (method: string, path: string, body?: unknown) => Promise<unknown>;

function apiClient(url: string): Api {
  return async (method, path, body) => {
    const response = await fetch(`${url}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`toxiproxy ${method} ${path}: ${response.status} ${text}`);
    return text === "" ? undefined : (JSON.parse(text) as unknown);
  };
}

function proxyHandle(api: Api, name: string, host: string, upstream: string): Proxy {
  const path = `/proxies/${encodeURIComponent(name)}`;
  let counter = 0;
  const addToxic = async (toxic: Toxic): Promise<string> => {
    const toxicName = toxic.name ?? `${toxic.type}-${++counter}`;
    await api("POST", `${path}/toxics`, {
      name: toxicName,
      type: toxic.type,
      stream: toxic.stream ?? "downstream",
      toxicity: toxic.toxicity ?? 1,
      attributes: toxic.attributes ?? {},
    });
    return toxicName;
  };
  return {
    name,
    host,
    upstream,
    addToxic,
    removeToxic: async (toxicName) => {
      await api("DELETE", `${path}/toxics/${encodeURIComponent(toxicName)}`);
    },
    latency: (ms, jitter = 0) => addToxic({ type: "latency", attributes: { latency: ms, jitter } }),
    bandwidth: (rate) => addToxic({ type: "bandwidth", attributes: { rate } }),
    timeout: (ms) => addToxic({ type: "timeout", attributes: { timeout: ms } }),
    resetPeer: (ms = 0) => addToxic({ type: "reset_peer", attributes: { timeout: ms } }),
    disable: async () => {
      await api("POST", path, { enabled: false });
    },
    enable: async () => {
      await api("POST", path, { enabled: true });
    },
  };
}
