import test from "ava";
import { podManifest, tryCreate } from "../harness/e2e-objects.ts";
import { sharedE2e, type E2e } from "../harness/e2e-suite.ts";
import type { Pushed, Registry, RegistryAuth } from "../harness/testbed.ts";

// Scenario 6: registries that want credentials (basic auth, and Docker token auth). With
// `--pull-secrets` digestpin asks them with the Pod's imagePullSecrets, or its service account's,
// as the kubelet would pull; without credentials the Pod is denied, saying so.
const e2e = sharedE2e(test, {
  name: "private-registry",
  registries: ["basic", "token"],
  pullSecrets: true,
});

const pushed = new Map<RegistryAuth, Promise<Pushed>>();

/** A pinned image on the registry of `auth`, pushed once. */
function privateImage(env: E2e, auth: RegistryAuth): Promise<Pushed> {
  let image = pushed.get(auth);
  if (image === undefined) {
    const registry = env.registries.get(auth)!;
    image = env.cranes.get(auth)!.pushRandomImage(registry.ref(`private/app:${auth}`));
    pushed.set(auth, image);
  }
  return image;
}

/** A kubernetes.io/dockerconfigjson Secret for `registry`'s pull-only user. */
function pullSecret(registry: Registry, namespace: string, name: string) {
  const user = registry.users.find((u) => u.username === "reader") ?? registry.users[0]!;
  const auth = Buffer.from(`${user.username}:${user.password}`).toString("base64");
  const config = { auths: { [registry.host]: { auth } } };
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/dockerconfigjson",
    metadata: { name, namespace },
    data: { ".dockerconfigjson": Buffer.from(JSON.stringify(config)).toString("base64") },
  };
}

async function pinBoth(env: E2e): Promise<Pushed[]> {
  const images = await Promise.all(
    (["basic", "token"] as const).map((auth) => privateImage(env, auth)),
  );
  await env.setPolicy(
    env.policy({ pins: Object.fromEntries(images.map((i) => [i.ref, i.digest])) }),
  );
  return images;
}

for (const auth of ["basic", "token"] as const) {
  test.serial(
    `${auth} auth: the Pod's imagePullSecrets and its service account's let digestpin check the pin`,
    async (t) => {
      const env = e2e();
      await pinBoth(env);
      const image = await privateImage(env, auth);
      const registry = env.registries.get(auth)!;
      const namespace = await env.namespace(t);
      await env.objects.create(pullSecret(registry, namespace, "regcred"));

      const own = await tryCreate(
        env.objects,
        podManifest(
          "own-secret",
          namespace,
          { containers: { app: image.ref } },
          { imagePullSecrets: [{ name: "regcred" }] },
        ),
      );
      t.true(own.allowed, own.allowed ? "" : own.message);
      if (own.allowed) t.is(own.object.spec.containers[0].image, `${image.ref}@${image.digest}`);

      await env.objects.create({
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: { name: "builder", namespace },
        imagePullSecrets: [{ name: "regcred" }],
      });
      const viaAccount = await tryCreate(
        env.objects,
        podManifest(
          "account-secret",
          namespace,
          { containers: { app: image.ref } },
          { serviceAccountName: "builder" },
        ),
      );
      t.true(viaAccount.allowed, viaAccount.allowed ? "" : viaAccount.message);
      if (viaAccount.allowed)
        t.is(viaAccount.object.spec.containers[0].image, `${image.ref}@${image.digest}`);
    },
  );

  test.serial(
    `${auth} auth: without credentials the Pod is denied, and the message says the registry wants them`,
    async (t) => {
      const env = e2e();
      await pinBoth(env);
      const image = await privateImage(env, auth);
      const namespace = await env.namespace(t);
      const denied = await tryCreate(
        env.objects,
        podManifest("anonymous", namespace, { containers: { app: image.ref } }),
      );
      t.false(denied.allowed);
      if (denied.allowed) return;
      t.true(
        denied.message.startsWith(
          `admission webhook "mutate.digestpin.dev" denied the request: containers[app]: image "${image.ref}": the registry answered with an error for ${image.ref}: `,
        ),
        denied.message,
      );
      t.regex(
        denied.message,
        /: ERR_REGISTRY_UNAUTHORIZED: 127\.0\.0\.1:\d+ requires (authentication|credentials)\b.*\(add an imagePullSecret\b/,
      );
      t.true(denied.message.includes(`The pin is ${image.digest}.`), denied.message);

      // A secret for another registry does not help.
      const other = env.registries.get(auth === "basic" ? "token" : "basic")!;
      await env.objects.create(pullSecret(other, namespace, "other"));
      const wrong = await tryCreate(
        env.objects,
        podManifest(
          "wrong-secret",
          namespace,
          { containers: { app: image.ref } },
          { imagePullSecrets: [{ name: "other" }] },
        ),
      );
      t.false(wrong.allowed);
      if (!wrong.allowed) t.is(wrong.message, denied.message);
    },
  );
}
