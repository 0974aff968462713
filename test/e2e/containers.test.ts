import type { V1Pod } from "@kubernetes/client-node";
import test from "ava";
import { podImages, podManifest, tryCreate, yamlDocuments } from "../harness/e2e-objects.ts";
import { sharedE2e, type E2e } from "../harness/e2e-suite.ts";
import type { Pushed } from "../harness/testbed.ts";

// Scenario 3: every list of images in a Pod: init containers, several containers, an ephemeral
// container added through the pods/ephemeralcontainers subresource (as `kubectl debug` does),
// and image volumes.
const e2e = sharedE2e(test, { name: "containers" });

interface Images {
  readonly init: Pushed;
  readonly web: Pushed;
  readonly sidecar: Pushed;
  readonly assets: Pushed;
  readonly debug: Pushed;
  readonly unpinned: Pushed;
}

let pushed: Promise<Images> | undefined;

function images(env: E2e): Promise<Images> {
  pushed ??= (async () => {
    const push = (name: string) => env.crane.pushRandomImage(env.registry.ref(name));
    const [init, web, sidecar, debug, unpinned] = await Promise.all([
      push("shop/migrate:5"),
      push("shop/web:1.4"),
      push("shop/proxy:2.2"),
      push("tools/debug:1"),
      push("tools/unreviewed:1"),
    ]);
    // An image volume holds an OCI artifact or image: here an image of files.
    const assets = await env.crane.pushFiles(env.registry.ref("shop/assets:7"), {
      "index.html": "<h1>shop</h1>\n",
    });
    return {
      init,
      web,
      sidecar,
      assets,
      debug,
      unpinned,
    };
  })();
  return pushed;
}

async function pinAll(env: E2e, i: Images): Promise<void> {
  const pins = Object.fromEntries(
    [i.init, i.web, i.sidecar, i.assets, i.debug].map((p) => [p.ref, p.digest]),
  );
  await env.setPolicy(env.policy({ pins }));
}

test.serial(
  "init containers, several containers and image volumes are all rewritten to their pins",
  async (t) => {
    const env = e2e();
    const i = await images(env);
    await pinAll(env, i);
    const namespace = await env.namespace(t);
    const pod = podManifest("web", namespace, {
      initContainers: { migrate: i.init.ref },
      containers: { web: i.web.ref, proxy: i.sidecar.ref },
      imageVolumes: { assets: i.assets.ref },
    });
    const created = await tryCreate(env.objects, pod);
    t.true(created.allowed, created.allowed ? "" : created.message);
    if (!created.allowed) return;
    const at = (p: Pushed) => `${p.ref}@${p.digest}`;
    const stored = podImages(created.object);
    t.like(stored, {
      "initContainers[migrate]": at(i.init),
      "containers[web]": at(i.web),
      "containers[proxy]": at(i.sidecar),
    });
    // Image volumes: the testbed's API server (v1.36, default feature gates) keeps
    // volumes[].image, and digestpin pins it like a container image.
    t.is(stored["volumes[assets]"], at(i.assets));
    t.deepEqual(
      JSON.parse(created.object.metadata?.annotations?.["digestpin.dev/original-images"] ?? "{}"),
      {
        "initContainers[migrate]": i.init.ref,
        "containers[web]": i.web.ref,
        "containers[proxy]": i.sidecar.ref,
        "volumes[assets]": i.assets.ref,
      },
    );
  },
);

test.serial(
  "a Pod is denied when any of its lists holds an image the policy denies, naming each",
  async (t) => {
    const env = e2e();
    const i = await images(env);
    await pinAll(env, i);
    const namespace = await env.namespace(t);
    const cases = [
      { initContainers: { migrate: i.unpinned.ref }, containers: { web: i.web.ref } },
      { containers: { web: i.web.ref, proxy: i.unpinned.ref } },
      { containers: { web: i.web.ref }, imageVolumes: { assets: i.unpinned.ref } },
    ];
    const places = ["initContainers[migrate]", "containers[proxy]", "volumes[assets]"];
    for (const [index, images] of cases.entries()) {
      const created = await tryCreate(env.objects, podManifest(`p${index}`, namespace, images));
      t.false(created.allowed);
      if (created.allowed) continue;
      t.is(
        created.message,
        `admission webhook "mutate.digestpin.dev" denied the request: ${places[index]!}: image "${i.unpinned.ref}": ` +
          `${i.unpinned.ref} is not pinned, and the policy denies unpinned images (unpinned: deny). ` +
          `Add a pin for ${i.unpinned.ref} to the policy's pins, or use a pinned image.`,
      );
    }
    // Two denied images: one line each.
    const both = await tryCreate(
      env.objects,
      podManifest("both", namespace, {
        initContainers: { migrate: i.unpinned.ref },
        containers: { web: `${i.web.ref}@${i.sidecar.digest}` },
      }),
    );
    t.false(both.allowed);
    if (!both.allowed) {
      const lines = both.message.split("\n");
      t.is(lines.length, 2, both.message);
      t.true(lines[0]!.includes("initContainers[migrate]: "), both.message);
      t.true(
        lines[1]!.startsWith(
          `containers[web]: image "${i.web.ref}@${i.sidecar.digest}": digest ${i.sidecar.digest} does not match the pin`,
        ),
        both.message,
      );
    }
  },
);

test.serial(
  "kubectl debug: an ephemeral container's image is pinned through pods/ephemeralcontainers, or denied",
  async (t) => {
    const env = e2e();
    const i = await images(env);
    await pinAll(env, i);
    const namespace = await env.namespace(t, "debugging");
    const sh = await env.shell(t);
    await sh.write(
      "web.yaml",
      yamlDocuments(podManifest("web", undefined, { containers: { web: i.web.ref } })),
    );
    const created = await sh.kubectl(["apply", "-n", namespace, "-f", "web.yaml"]);
    t.is(created.exitCode, 0, created.output);

    const debug = await sh.kubectl([
      "debug",
      "web",
      "-n",
      namespace,
      `--image=${i.debug.ref}`,
      "--container=debugger",
    ]);
    t.is(debug.exitCode, 0, debug.output);
    const afterDebug = await env.core.readNamespacedPod({ name: "web", namespace });
    t.deepEqual(
      (afterDebug.spec?.ephemeralContainers ?? []).map((c) => [c.name, c.image]),
      [["debugger", `${i.debug.ref}@${i.debug.digest}`]],
    );
    // The Pod's other images are not judged again (they did not change).
    t.is(afterDebug.spec?.containers[0]?.image, `${i.web.ref}@${i.web.digest}`);

    const denied = await sh.kubectl([
      "debug",
      "web",
      "-n",
      namespace,
      `--image=${i.unpinned.ref}`,
      "--container=unreviewed",
    ]);
    t.is(denied.exitCode, 1, denied.output);
    t.true(
      denied.output.includes(
        `admission webhook "mutate.digestpin.dev" denied the request: ephemeralContainers[unreviewed]: image "${i.unpinned.ref}": ${i.unpinned.ref} is not pinned`,
      ),
      denied.output,
    );
    const afterDenial = await env.core.readNamespacedPod({ name: "web", namespace });
    t.deepEqual(
      (afterDenial.spec?.ephemeralContainers ?? []).map((c) => c.name),
      ["debugger"],
    );

    // The raw subresource, as any client may use it: an image in digest form that no pin knows.
    const raw = await sh.kubectl(
      [
        "replace",
        "--raw",
        `/api/v1/namespaces/${namespace}/pods/web/ephemeralcontainers`,
        "-f",
        "-",
      ],
      {
        input: JSON.stringify(
          withEphemeral(afterDenial, "raw", `${i.unpinned.ref}@${i.unpinned.digest}`),
        ),
      },
    );
    t.is(raw.exitCode, 1, raw.output);
    t.true(
      raw.output.includes(
        `admission webhook "mutate.digestpin.dev" denied the request: ephemeralContainers[raw]: image "${i.unpinned.ref}@${i.unpinned.digest}": digest ${i.unpinned.digest} is not pinned for any tag of`,
      ),
      raw.output,
    );
  },
);

/** `pod` (as read) with one more ephemeral container. */
function withEphemeral(pod: V1Pod, name: string, image: string): unknown {
  const plain = JSON.parse(JSON.stringify(pod)) as {
    spec: { ephemeralContainers?: { name: string; image: string }[] };
  };
  plain.spec.ephemeralContainers = [...(plain.spec.ephemeralContainers ?? []), { name, image }];
  return plain;
}
