import test from "ava";
import { parseReference, tryParseReference } from "../../../src/reference/index.ts";

const sha256 = `sha256:${"0123456789abcdef".repeat(4)}`;
const hex64 = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";

/** Invalid for distribution/reference's ParseNormalizedNamed too; most cases from its tests. */
const invalid = [
  "",
  ":justtag",
  `@${sha256}`,
  hex64,
  "https://github.com/docker/docker",
  "docker/Docker",
  "docker.io/docker/Docker",
  "test:5000/Uppercase/lowercase:tag",
  "Uppercase:tag",
  "7EC43B381E5AEFE6E04EFB0B3F0693FF2A4A50652D64AEC573905F2DB5889A1C",
  "-docker",
  "-docker/docker",
  "docker-/docker",
  "-docker-/docker",
  "-docker.io/docker/docker",
  "docker///docker",
  "docker.io/docker///docker",
  "docker/",
  "foo.com/",
  "a/a/a/a/",
  "/foo",
  "____/____",
  "_docker/_docker",
  "dock..er/docker",
  "dock_.er/docker",
  "dock-.er/docker",
  "example.com/__underscore/myimage",
  "example.com/..dots/myimage",
  "example.com/nodouble..dots/myimage",
  "aa/asdf$$^/aa",
  "a^a",
  "foo.com:http/bar",
  "foo_bar.com:8080/app",
  "do__cker:8080/docker",
  "bad_hostname.com:8080/myapp:tag",
  "Foo_Bar/baz",
  "[fc00::1]",
  "[fc00::1]:5000",
  "[2001:db8::1]:tag",
  "fc00::1:5000/debian",
  "[fe80::1%eth0]:5000/debian",
  "[2001:db8:3:4::192.0.2.33]:5000/debian",
  "[]/foo",
  "[::1]x/foo",
  "foo:",
  "foo:-tag",
  "foo:.tag",
  "foo:invalid~tag",
  "foo:a:b",
  `foo:${"t".repeat(129)}`,
  "foo@",
  "foo@sha256",
  "foo@sha256:",
  "foo@sha256:ffffffffffffffffffffffffffffffffff",
  `foo@${sha256.toUpperCase()}`,
  `foo@sha256:${"F".repeat(64)}`,
  `foo@sha512:${"f".repeat(64)}`,
  `foo@md5:${"f".repeat(64)}`,
  `foo@invaliddigest:${"f".repeat(64)}`,
  `foo@${sha256}@${sha256}`,
  "registry.com:8080/myapp@2bad",
  "a b",
  "é/foo",
  `domain.com/${"a".repeat(256)}:tag`,
  "a".repeat(248),
  `docker.io/${"a".repeat(248)}`,
  `this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_${"x".repeat(200)}/docker`,
];

for (const input of invalid) {
  test(`rejects ${JSON.stringify(input.length > 80 ? `${input.slice(0, 60)}…` : input)}`, (t) => {
    const result = tryParseReference(input);
    t.false(result.ok);
    if (!result.ok) {
      t.is(result.error.code, "ERR_INVALID_REFERENCE");
      t.is(result.error.input, input);
    }
    t.throws(() => parseReference(input), { code: "ERR_INVALID_REFERENCE" });
  });
}
