import test from "ava";
import { parseWwwAuthenticate } from "../../../src/registry/www-authenticate.ts";

test("a Docker Hub bearer challenge", (t) => {
  const header =
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"';
  t.deepEqual(parseWwwAuthenticate(header), [
    {
      scheme: "bearer",
      params: {
        realm: "https://auth.docker.io/token",
        service: "registry.docker.io",
        scope: "repository:library/busybox:pull",
      },
    },
  ]);
});

test("several challenges, token values, spaces and case", (t) => {
  const header = 'Basic realm="Registry Realm", BEARER Realm=https://x/token , service = "a,b"';
  t.deepEqual(parseWwwAuthenticate(header), [
    { scheme: "basic", params: { realm: "Registry Realm" } },
    { scheme: "bearer", params: { realm: "https://x/token", service: "a,b" } },
  ]);
});

test("quoted-pair escapes and commas inside quotes", (t) => {
  const [challenge] = parseWwwAuthenticate(
    'Bearer realm="https://r/t?a=1,b=2",error="say \\"no\\""',
  );
  t.deepEqual(challenge?.params, { realm: "https://r/t?a=1,b=2", error: 'say "no"' });
});

test("a scheme without parameters, and garbage, do not throw", (t) => {
  t.deepEqual(parseWwwAuthenticate("Basic"), [{ scheme: "basic", params: {} }]);
  t.deepEqual(parseWwwAuthenticate(""), []);
  t.deepEqual(parseWwwAuthenticate('Bearer realm="unterminated'), [
    { scheme: "bearer", params: { realm: "unterminated" } },
  ]);
  t.notThrows(() => parseWwwAuthenticate('@@@ ,,, ===  "" Bearer realm=@'));
});

test("a long hostile header is parsed in linear-ish time", (t) => {
  const header = "Bearer " + 'a="b",'.repeat(2000);
  const started = performance.now();
  const [challenge] = parseWwwAuthenticate(header);
  t.is(challenge?.params.a, "b");
  t.true(performance.now() - started < 1000);
});
