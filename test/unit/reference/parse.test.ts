import test from "ava";
import { parseReference, tryParseReference } from "../../../src/reference/index.ts";

const sha256 = `sha256:${"0123456789abcdef".repeat(4)}`;
const sha512 = `sha512:${"0123456789abcdef".repeat(8)}`;
const hex64 = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";

/** input → [registry, repository, tag, digest]; most cases from distribution/reference's tests. */
const valid: Record<string, [string, string, string | null, string | null]> = {
  // Docker Hub normalization
  busybox: ["docker.io", "library/busybox", "latest", null],
  "busybox:1.36": ["docker.io", "library/busybox", "1.36", null],
  "library/busybox": ["docker.io", "library/busybox", "latest", null],
  "docker.io/busybox": ["docker.io", "library/busybox", "latest", null],
  "docker.io/busybox:latest": ["docker.io", "library/busybox", "latest", null],
  "docker.io/library/busybox": ["docker.io", "library/busybox", "latest", null],
  "index.docker.io/busybox": ["docker.io", "library/busybox", "latest", null],
  "index.docker.io/library/debian": ["docker.io", "library/debian", "latest", null],
  "index.docker.io/docker/docker": ["docker.io", "docker/docker", "latest", null],
  "docker.io/library/foo/bar": ["docker.io", "library/foo/bar", "latest", null],
  "library/foo/bar": ["docker.io", "library/foo/bar", "latest", null],
  "store/foo/bar": ["docker.io", "store/foo/bar", "latest", null],
  "dmcgowan/myapp": ["docker.io", "dmcgowan/myapp", "latest", null],
  "other/library": ["docker.io", "other/library", "latest", null],
  "test_com/foo": ["docker.io", "test_com/foo", "latest", null],
  "docker.io:443/foo": ["docker.io:443", "foo", "latest", null],
  "registry-1.docker.io/foo": ["registry-1.docker.io", "foo", "latest", null],
  "DOCKER.IO/foo": ["DOCKER.IO", "foo", "latest", null],
  // single component: always Docker Hub, even when it looks like a host
  localhost: ["docker.io", "library/localhost", "latest", null],
  "localhost:5000": ["docker.io", "library/localhost", "5000", null],
  "example.com": ["docker.io", "library/example.com", "latest", null],
  "test.com:5000": ["docker.io", "library/test.com", "5000", null],
  "192.168.0.1": ["docker.io", "library/192.168.0.1", "latest", null],
  "192.168.0.1:80": ["docker.io", "library/192.168.0.1", "80", null],
  "foo_bar.com:8080": ["docker.io", "library/foo_bar.com", "8080", null],
  "docker.io": ["docker.io", "library/docker.io", "latest", null],
  [`${hex64}:tag`]: ["docker.io", `library/${hex64}`, "tag", null],
  [`docker.io/${hex64}`]: ["docker.io", `library/${hex64}`, "latest", null],
  [hex64.slice(0, 63)]: ["docker.io", `library/${hex64.slice(0, 63)}`, "latest", null],
  thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev: [
    "docker.io",
    "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
    "latest",
    null,
  ],
  // localhost
  "localhost/foo": ["localhost", "foo", "latest", null],
  "localhost/library/debian": ["localhost", "library/debian", "latest", null],
  "localhost:8080/name": ["localhost:8080", "name", "latest", null],
  // a first component with an uppercase letter is a registry
  "Foo/bar": ["Foo", "bar", "latest", null],
  "FOO/bar": ["FOO", "bar", "latest", null],
  "Docker/docker": ["Docker", "docker", "latest", null],
  "LOCALDOMAIN/library/debian": ["LOCALDOMAIN", "library/debian", "latest", null],
  "Foo.com/bar": ["Foo.com", "bar", "latest", null],
  "Asdf.com/foo/bar": ["Asdf.com", "foo/bar", "latest", null],
  // host names and ports
  "example.com/foo": ["example.com", "foo", "latest", null],
  "test:5000/repo": ["test:5000", "repo", "latest", null],
  "test-com:8080/foo": ["test-com:8080", "foo", "latest", null],
  "sub-dom1.foo.com/bar/baz/quux:some-long-tag": [
    "sub-dom1.foo.com",
    "bar/baz/quux",
    "some-long-tag",
    null,
  ],
  "b.gcr.io/test.example.com/my-app:test.example.com": [
    "b.gcr.io",
    "test.example.com/my-app",
    "test.example.com",
    null,
  ],
  "xn--n3h.com:18080/foo": ["xn--n3h.com:18080", "foo", "latest", null],
  "0101.com/foo": ["0101.com", "foo", "latest", null],
  "a-b.c-d.e:1/x": ["a-b.c-d.e:1", "x", "latest", null],
  "gcr.io/library/busybox": ["gcr.io", "library/busybox", "latest", null],
  "example.com:99999999/x": ["example.com:99999999", "x", "latest", null],
  // IPv4 and bracketed IPv6
  "127.0.0.1:5000/docker/docker": ["127.0.0.1:5000", "docker/docker", "latest", null],
  "192.168.1.1/repo": ["192.168.1.1", "repo", "latest", null],
  "192.168.1.1:5000/repo:5050": ["192.168.1.1:5000", "repo", "5050", null],
  "[::1]/repo": ["[::1]", "repo", "latest", null],
  "[::1]:5000/repo": ["[::1]:5000", "repo", "latest", null],
  "[2001:db8::]:5000/repo": ["[2001:db8::]:5000", "repo", "latest", null],
  "[2001:db8:1:2:3:4:5:6]/repo:tag": ["[2001:db8:1:2:3:4:5:6]", "repo", "tag", null],
  "[fc00:1:2:3:4:5:6:7]:5000/library/debian": [
    "[fc00:1:2:3:4:5:6:7]:5000",
    "library/debian",
    "latest",
    null,
  ],
  "[FC00::1]:5000/docker": ["[FC00::1]:5000", "docker", "latest", null],
  [`[2001:db8::1]:5000/repo:tag@${sha256}`]: ["[2001:db8::1]:5000", "repo", "tag", sha256],
  // a "." first component that is no host name but a valid path component: no registry
  "foo_bar.com/repo": ["", "foo_bar.com/repo", "latest", null],
  "a__b.c/d:1": ["", "a__b.c/d", "1", null],
  // path separators
  "docker-rules/docker": ["docker.io", "docker-rules/docker", "latest", null],
  "docker---rules/docker": ["docker.io", "docker---rules/docker", "latest", null],
  "dock__er/docker": ["docker.io", "dock__er/docker", "latest", null],
  "example.com/some_separator__underscore/myimage": [
    "example.com",
    "some_separator__underscore/myimage",
    "latest",
    null,
  ],
  "registry.io/foo/project--id.module--name.ver---sion--name": [
    "registry.io",
    "foo/project--id.module--name.ver---sion--name",
    "latest",
    null,
  ],
  "d/docker": ["docker.io", "d/docker", "latest", null],
  "jess/t": ["docker.io", "jess/t", "latest", null],
  "aa/aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb": [
    "docker.io",
    "aa/aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb",
    "latest",
    null,
  ],
  // tags
  "lowercase:Uppercase": ["docker.io", "library/lowercase", "Uppercase", null],
  "foo:_": ["docker.io", "library/foo", "_", null],
  "foo:1.0-rc.1_b": ["docker.io", "library/foo", "1.0-rc.1_b", null],
  [`foo:${"t".repeat(128)}`]: ["docker.io", "library/foo", "t".repeat(128), null],
  // digests, with and without a tag
  [`busybox@${sha256}`]: ["docker.io", "library/busybox", null, sha256],
  [`busybox:latest@${sha256}`]: ["docker.io", "library/busybox", "latest", sha256],
  [`gcr.io/library/busybox:1@${sha512}`]: ["gcr.io", "library/busybox", "1", sha512],
  [`localhost@${sha256}`]: ["docker.io", "library/localhost", null, sha256],
  [`${hex64}@${sha256}`]: ["docker.io", `library/${hex64}`, null, sha256],
  // length limits: the repository path counts, the registry does not
  [`example.com/${"a".repeat(255)}`]: ["example.com", "a".repeat(255), "latest", null],
  ["a".repeat(247)]: ["docker.io", `library/${"a".repeat(247)}`, "latest", null],
  [`${"a/".repeat(127)}a:tag-puts-this-over-max`]: [
    "docker.io",
    `${"a/".repeat(127)}a`,
    "tag-puts-this-over-max",
    null,
  ],
};

for (const [input, [registry, repository, tag, digest]] of Object.entries(valid)) {
  test(`parses ${input.length > 80 ? `${input.slice(0, 60)}…` : input}`, (t) => {
    t.deepEqual(parseReference(input), { registry, repository, tag, digest });
    t.deepEqual(tryParseReference(input), {
      ok: true,
      reference: { registry, repository, tag, digest },
    });
  });
}

test("a valid reference is parsed once per distinct string and shared, frozen; an invalid one gets a fresh error each time", (t) => {
  const input = `registry.example.com:5000/team/app:memo-${String(Date.now())}`;
  const first = tryParseReference(input);
  const again = tryParseReference(input);
  t.is(again, first, "the same parse result");
  t.true(Object.isFrozen(first) && first.ok && Object.isFrozen(first.reference));
  t.true(first.ok && parseReference(input) === first.reference, "parseReference shares it");
  t.deepEqual(first, {
    ok: true,
    reference: {
      registry: "registry.example.com:5000",
      repository: "team/app",
      tag: input.slice(input.lastIndexOf(":") + 1),
      digest: null,
    },
  });
  const bad = tryParseReference("app@sha256:short");
  const badAgain = tryParseReference("app@sha256:short");
  t.false(bad.ok);
  t.not(badAgain, bad);
  t.deepEqual(badAgain, bad);
  // Past its bound the memo starts over; answers stay the same.
  for (let i = 0; i < 5000; i++) tryParseReference(`app:${String(i)}`);
  t.deepEqual(tryParseReference(input), first);
});
