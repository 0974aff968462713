import test from "ava";
import { keychainFrom, parseDockerConfig } from "../../../src/registry/credentials.ts";
import { MEDIA_TYPES } from "../../../src/registry/media-types.ts";
import { ref, resolverFor } from "../../helpers/resolver-for.ts";
import {
  createCrane,
  startRegistry,
  type Registry,
  type TokenUser,
} from "../../harness/testbed.ts";

// The resolver against the real distribution registry, with crane as the independent oracle.

const keychainOf = (registry: Registry, user: TokenUser | undefined) =>
  keychainFrom([
    parseDockerConfig(
      JSON.stringify(
        user === undefined
          ? {}
          : { auths: { [registry.host]: { username: user.username, password: user.password } } },
      ),
      "test",
    ),
  ]);

for (const auth of ["none", "basic", "token"] as const) {
  test(`${auth} auth: every image kind resolves to what crane says`, async (t) => {
    const registry = await startRegistry(t, { auth });
    const crane = await createCrane(t, registry);
    const resolver = resolverFor(t, registry);
    const keychain = keychainOf(registry, registry.users[0]);
    const images = [
      {
        tag: "oci",
        push: () => crane.pushRandomImage(registry.ref("app/kinds:oci"), { mediaType: "oci" }),
        type: MEDIA_TYPES.ociManifest,
      },
      {
        tag: "docker",
        push: () =>
          crane.pushRandomImage(registry.ref("app/kinds:docker"), { mediaType: "docker" }),
        type: MEDIA_TYPES.dockerManifest,
      },
      {
        tag: "index",
        push: () =>
          crane.pushIndex(registry.ref("app/kinds:index"), ["linux/amd64", "linux/arm64"], {
            mediaType: "oci",
          }),
        type: MEDIA_TYPES.ociIndex,
      },
      {
        tag: "list",
        push: () =>
          crane.pushIndex(registry.ref("app/kinds:list"), ["linux/amd64", "linux/arm64"], {
            mediaType: "docker",
          }),
        type: MEDIA_TYPES.dockerManifestList,
      },
    ];
    for (const image of images) {
      await image.push();
      const reference = ref(registry.ref(`app/kinds:${image.tag}`));
      const answer = await resolver.resolve(reference, { keychain });
      t.is(answer.digest, await crane.digest(registry.ref(`app/kinds:${image.tag}`)), image.tag);
      t.is(answer.mediaType, image.type, image.tag);
      const verified = await resolver.resolve(reference, { keychain, verify: true });
      t.is(verified.digest, answer.digest, `${image.tag} verified`);
    }
  });
}

test("a multi-platform index lists each platform's digest, as crane sees them", async (t) => {
  const registry = await startRegistry(t, { auth: "none" });
  const crane = await createCrane(t, registry);
  const pushed = await crane.pushIndex(registry.ref("app/multi:1"), ["linux/amd64", "linux/arm64"]);
  const answer = await resolverFor(t, registry).resolve(ref(registry.ref("app/multi:1")), {
    platforms: true,
  });
  t.is(answer.digest, pushed.digest);
  t.deepEqual(
    answer.platforms?.map((p) => p.platform),
    ["linux/amd64", "linux/arm64"],
  );
  for (const p of answer.platforms ?? []) {
    t.is(p.digest, await crane.digest(registry.ref("app/multi:1"), { platform: p.platform }));
  }
});

test("a re-pushed tag is seen once the cache entry expires, not before", async (t) => {
  const registry = await startRegistry(t, { auth: "none" });
  const crane = await createCrane(t, registry);
  let now = Date.now();
  const resolver = resolverFor(t, registry, { cacheTtlMs: 30_000, now: () => now });
  const image = registry.ref("app/harmless:1.0");
  const first = await crane.pushRandomImage(image);
  t.is((await resolver.resolve(ref(image))).digest, first.digest);
  const second = await crane.repush(image);
  t.not(second.digest, first.digest);
  t.is((await resolver.resolve(ref(image))).digest, first.digest, "cached within the TTL");
  now += 30_001;
  t.is((await resolver.resolve(ref(image))).digest, second.digest, "fresh after the TTL");
});

test("missing and wrong credentials are told apart", async (t) => {
  for (const auth of ["basic", "token"] as const) {
    const registry = await startRegistry(t, { auth });
    const crane = await createCrane(t, registry);
    const image = registry.ref("private/app:1");
    await crane.pushRandomImage(image);
    const resolver = resolverFor(t, registry);
    const missing = await t.throwsAsync(resolver.resolve(ref(image)));
    t.like(missing, {
      code: auth === "basic" ? "ERR_REGISTRY_UNAUTHORIZED" : "ERR_REGISTRY_UNAUTHORIZED",
    });
    t.regex(missing.message, /credentials|imagePullSecret/);
    const wrong = await t.throwsAsync(
      resolver.resolve(ref(image), {
        keychain: keychainOf(registry, { username: "admin", password: "wrong" }),
      }),
    );
    t.is((wrong as { code?: string }).code, "ERR_REGISTRY_UNAUTHORIZED");
    t.regex(wrong.message, /rejected|refused/);
  }
});

test("one reference object asked with other credentials is another question", async (t) => {
  // The cache key of a reference object is kept (a warm review builds none): it must still
  // follow the credentials and the options asked with.
  const registry = await startRegistry(t, { auth: "token" });
  const crane = await createCrane(t, registry);
  const image = registry.ref("private/keys:1");
  const pushed = await crane.pushRandomImage(image);
  const resolver = resolverFor(t, registry);
  const reference = ref(image);
  const right = keychainOf(registry, registry.users[0]);
  const wrong = keychainOf(registry, { username: "admin", password: "wrong" });
  await t.throwsAsync(resolver.resolve(reference), { code: "ERR_REGISTRY_UNAUTHORIZED" });
  t.is((await resolver.resolve(reference, { keychain: right })).digest, pushed.digest);
  await t.throwsAsync(resolver.resolve(reference, { keychain: wrong }), {
    code: "ERR_REGISTRY_UNAUTHORIZED",
  });
  await t.throwsAsync(resolver.resolve(reference), { code: "ERR_REGISTRY_UNAUTHORIZED" });
  const verified = await resolver.resolve(reference, { keychain: right, verify: true });
  t.is(verified.digest, pushed.digest);
  t.is((await resolver.resolve(reference, { keychain: right })).digest, pushed.digest);
});

test("an unknown tag is not found, after a token was issued for it", async (t) => {
  const registry = await startRegistry(t, { auth: "token" });
  const resolver = resolverFor(t, registry);
  const keychain = keychainOf(registry, registry.users[0]);
  const missing = await t.throwsAsync(
    resolver.resolve(ref(registry.ref("app/none:1")), { keychain }),
  );
  t.is((missing as { code?: string }).code, "ERR_REGISTRY_NOT_FOUND");
  t.true(registry.tokenServer!.issued() > 0);
});

test("1,000 concurrent resolves of one new tag cost the registry one manifest request", async (t) => {
  const registry = await startRegistry(t, { auth: "none" });
  const crane = await createCrane(t, registry);
  const image = registry.ref("app/burst:1");
  const pushed = await crane.pushRandomImage(image);
  const before = (await registry.manifestRequests({ repository: "app/burst" })).length;
  const resolver = resolverFor(t, registry);
  const answers = await Promise.all(
    Array.from({ length: 1000 }, () => resolver.resolve(ref(image))),
  );
  t.deepEqual(new Set(answers.map((a) => a.digest)), new Set([pushed.digest]));
  const requests = (await registry.manifestRequests({ repository: "app/burst" })).slice(before);
  t.deepEqual(
    requests.map((r) => r.method),
    ["HEAD"],
  );
});

test("a registry outside the policy's list is never contacted", async (t) => {
  const registry = await startRegistry(t, { auth: "none" });
  const resolver = resolverFor(t, registry);
  const error = await t.throwsAsync(resolver.resolve(ref("elsewhere.example:5000/app:1")));
  t.is((error as { code?: string }).code, "ERR_REGISTRY_NOT_ALLOWED");
});
