import test from "ava";
import { podManifest, tryCreate, yamlDocuments } from "../harness/e2e-objects.ts";
import { sharedE2e, type E2e } from "../harness/e2e-suite.ts";
import { waitFor } from "../harness/wait.ts";
import { startToxiproxy, type Proxy, type Pushed } from "../harness/testbed.ts";

// Scenario 7: the registry goes away (toxiproxy cuts the only way to it). A pinned image is
// admitted at its pin with a warning (`registryUnavailable: use-pin`) or denied (`deny`); an
// unpinned image is denied either way, since there is no digest to use.
const e2e = sharedE2e(test, { name: "outage" });

interface Outage {
  readonly proxy: Proxy;
  /** The images as Pods name them: through the proxy. */
  readonly pinned: string;
  readonly unpinned: string;
  readonly pinnedPushed: Pushed;
}

let outage: Promise<Outage> | undefined;

/** toxiproxy in front of the registry, and the images, made by the first test that asks. */
function outageOf(env: E2e): Promise<Outage> {
  outage ??= (async () => {
    const toxiproxy = await startToxiproxy(env.suite);
    const proxy = await toxiproxy.proxy("registry", env.registry.host);
    // Pushed directly, used through the proxy (same repositories, another host:port).
    const pinnedPushed = await env.crane.pushRandomImage(env.registry.ref("shop/web:1.4"));
    await env.crane.pushRandomImage(env.registry.ref("shop/worker:2.0"));
    return {
      proxy,
      pinned: `${proxy.host}/shop/web:1.4`,
      unpinned: `${proxy.host}/shop/worker:2.0`,
      pinnedPushed,
    };
  })();
  return outage;
}

/** A policy reaching the registry only through the proxy (its certificate is for 127.0.0.1). */
function policy(env: E2e, o: Outage, registryUnavailable: "use-pin" | "deny"): string {
  return env.policy({
    unpinned: "trust-on-first-use",
    registryUnavailable,
    registries: [{ host: o.proxy.host, ca: env.registry.caPem, allowPrivateAddresses: true }],
    pins: { [o.pinned]: o.pinnedPushed.digest },
  });
}

/**
 * Waits until a dry-run of the pinned image is admitted: the registry answers again (digestpin
 * keeps a registry failure for 2 s, so an outage does not multiply requests).
 */
async function untilReachable(env: E2e, o: Outage, namespace: string): Promise<void> {
  const probe = podManifest("probe", namespace, { containers: { web: o.pinned } });
  const checked = () =>
    env.webhook.metric("digestpin_image_decisions_total", { endpoint: "mutate", reason: "pinned" });
  await waitFor("the registry to be reachable", async () => {
    const before = await checked();
    await tryCreate(env.objects, probe, { dryRun: true });
    return (await checked()) > before ? true : undefined;
  });
}

/** Cuts the proxy for the duration of `fn`. */
async function whileCut<T>(proxy: Proxy, fn: () => Promise<T>): Promise<T> {
  await proxy.disable();
  try {
    return await fn();
  } finally {
    await proxy.enable();
  }
}

for (const setting of ["use-pin", "deny"] as const) {
  test.serial(`registryUnavailable: ${setting}, registry cut`, async (t) => {
    const env = e2e();
    const o = await outageOf(env);
    await env.setPolicy(policy(env, o, setting));
    const namespace = await env.namespace(t, `shop-${setting}`);
    const sh = await env.shell(t);
    await sh.write(
      "web.yaml",
      yamlDocuments(podManifest("web", undefined, { containers: { web: o.pinned } })),
    );
    await sh.write(
      "worker.yaml",
      yamlDocuments(podManifest("worker", undefined, { containers: { worker: o.unpinned } })),
    );

    await untilReachable(env, o, namespace);

    const [web, worker] = await whileCut(o.proxy, async () => {
      const started = performance.now();
      const runs = [
        await sh.kubectl(["apply", "-n", namespace, "-f", "web.yaml"]),
        await sh.kubectl(["apply", "-n", namespace, "-f", "worker.yaml"]),
      ];
      t.log(
        `two Pods decided with the registry cut in ${Math.round(performance.now() - started)} ms`,
      );
      return runs;
    });
    const refused = `ERR_REGISTRY_UNREACHABLE: cannot reach https://${o.proxy.host}: ECONNREFUSED`;
    if (setting === "use-pin") {
      t.is(web!.exitCode, 0, web!.output);
      const [warning, created] = web!.output.trimEnd().split("\n");
      t.is(
        warning,
        `Warning: registry unavailable; ${o.pinned} admitted at its pin ${o.pinnedPushed.digest.slice(0, 19)}`,
      );
      t.is(created, "pod/web created");
      const stored = await env.core.readNamespacedPod({ name: "web", namespace });
      t.is(stored.spec?.containers[0]?.image, `${o.pinned}@${o.pinnedPushed.digest}`);
    } else {
      t.is(web!.exitCode, 1, web!.output);
      t.true(
        web!.output.startsWith(
          `Error from server (Forbidden): error when creating "web.yaml": admission webhook "mutate.digestpin.dev" denied the request: containers[web]: image "${o.pinned}": could not ask the registry whether ${o.pinned} still serves the pinned ${o.pinnedPushed.digest} (`,
        ),
        web!.output,
      );
      t.true(
        web!.output.includes("(registryUnavailable: deny). Retry later, or use "),
        web!.output,
      );
      t.true(web!.output.includes(refused), web!.output);
    }
    t.is(worker!.exitCode, 1, worker!.output);
    t.true(
      worker!.output.startsWith(
        `Error from server (Forbidden): error when creating "worker.yaml": admission webhook "mutate.digestpin.dev" denied the request: containers[worker]: image "${o.unpinned}": ${o.unpinned} is not pinned and the registry could not be asked which digest it serves (`,
      ),
      worker!.output,
    );
  });
}

test.serial(
  "registryUnavailable: use-pin, registry hanging: answered at the pin before the API server's timeout",
  async (t) => {
    const env = e2e();
    const o = await outageOf(env);
    await env.setPolicy(policy(env, o, "use-pin"));
    const namespace = await env.namespace(t, "shop-hanging");
    await untilReachable(env, o, namespace);
    const toxic = await o.proxy.timeout(0); // every connection stalls, forever
    try {
      const started = performance.now();
      const created = await tryCreate(
        env.objects,
        podManifest("web", namespace, { containers: { web: o.pinned } }),
      );
      const ms = Math.round(performance.now() - started);
      t.log(`admitted at the pin after ${ms} ms with the registry hanging`);
      t.true(created.allowed, created.allowed ? "" : created.message);
      if (created.allowed)
        t.is(created.object.spec.containers[0].image, `${o.pinned}@${o.pinnedPushed.digest}`);
      t.true(ms < env.webhook.settings.timeoutSeconds * 1000, `${ms} ms`);
    } finally {
      await o.proxy.removeToxic(toxic);
    }
  },
);
