import test from "ava";
import {
  authsKeyHost,
  credentialId,
  keychainFrom,
  parseDockerConfig,
} from "../../../src/registry/credentials.ts";
import { RegistryError } from "../../../src/registry/errors.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");

test("auths keys name hosts; Docker Hub's spellings are one", (t) => {
  t.is(authsKeyHost("https://index.docker.io/v1/"), "docker.io");
  t.is(authsKeyHost("index.docker.io"), "docker.io");
  t.is(authsKeyHost("registry-1.docker.io"), "docker.io");
  t.is(authsKeyHost("http://Registry.Example.com:5000/v2/"), "registry.example.com:5000");
});

test("auth, username/password and identitytoken entries", (t) => {
  const config = parseDockerConfig(
    JSON.stringify({
      auths: {
        "https://index.docker.io/v1/": { auth: b64("alice:s3cr:et") },
        "ghcr.io": { username: "bob", password: "pw" },
        "quay.io": { identitytoken: "refresh-me" },
        "empty.io": {},
      },
    }),
    "config.json",
  );
  const keychain = keychainFrom([config]);
  t.deepEqual(keychain("docker.io"), { username: "alice", password: "s3cr:et" });
  t.deepEqual(keychain("ghcr.io"), { username: "bob", password: "pw" });
  t.deepEqual(keychain("quay.io"), { identityToken: "refresh-me" });
  t.is(keychain("empty.io"), undefined);
  t.is(keychain("elsewhere.io"), undefined);
});

test("legacy .dockercfg has the auths map at the top", (t) => {
  const config = parseDockerConfig(JSON.stringify({ "r.io": { auth: b64("u:p") } }), ".dockercfg");
  t.deepEqual(keychainFrom([config])("r.io"), { username: "u", password: "p" });
});

test("credential helpers are reported, not silently ignored", (t) => {
  const config = parseDockerConfig(
    JSON.stringify({
      auths: { "a.io": { auth: b64("u:p") } },
      credHelpers: { "gcr.io": "gcloud" },
    }),
    "~/.docker/config.json",
  );
  const keychain = keychainFrom([config]);
  t.deepEqual(keychain("a.io"), { username: "u", password: "p" });
  const error = t.throws(() => keychain("gcr.io"), { instanceOf: RegistryError });
  t.is(error.code, "ERR_CREDENTIALS_UNSUPPORTED");
  t.regex(error.message, /docker-credential-gcloud/);
  t.is(keychain("b.io"), undefined);
  const store = keychainFrom([parseDockerConfig(JSON.stringify({ credsStore: "desktop" }), "c")]);
  t.throws(() => store("b.io"), { message: /docker-credential-desktop/ });
});

test("invalid JSON names its source", (t) => {
  t.throws(() => parseDockerConfig("{", "secret ns/pull"), {
    message: /secret ns\/pull: not valid JSON/,
  });
});

test("credential identities differ per secret and reveal nothing", (t) => {
  const a = credentialId({ username: "u", password: "one" });
  t.not(a, credentialId({ username: "u", password: "two" }));
  t.is(a, credentialId({ username: "u", password: "one" }));
  t.is(credentialId(undefined), "anonymous");
  t.false(a.includes("one"));
});
