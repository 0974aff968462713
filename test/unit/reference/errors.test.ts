import test from "ava";
import { DigestpinError } from "../../../src/errors.ts";
import {
  InvalidReferenceError,
  parseReference,
  tryParseReference,
} from "../../../src/reference/index.ts";

const hex64 = "0123456789abcdef".repeat(4);

/** input → the exact message: what is wrong, and where. */
const messages: Record<string, string> = {
  "": "the image reference is empty",
  [hex64]: `"${hex64}": a 64-hex identifier is not a repository name, use "NAME@sha256:${hex64}"`,
  ":tag": `":tag": the repository name is missing`,
  [`@sha256:${hex64}`]: `"@sha256:${hex64}": the repository name is missing`,

  // repository path
  "docker/Docker": `name "docker/Docker": repository path must be lowercase`,
  "Uppercase:tag": `name "Uppercase": repository path must be lowercase`,
  "Foo_Bar/baz": `name "Foo_Bar/baz": repository path must be lowercase`,
  "test:5000/Uppercase/lowercase:tag": `name "test:5000/Uppercase/lowercase": repository path must be lowercase`,
  "-docker": `name "-docker": path component "-docker" must start with a lowercase letter or digit`,
  "docker-/docker": `name "docker-/docker": path component "docker-" must end with a lowercase letter or digit`,
  "a/dock_.er": `name "a/dock_.er": path component "dock_.er" contains "_."; letters and digits are joined by one ".", one "_", "__", or any number of "-"`,
  "dock_.er/docker": `registry "dock_.er": "_" in "dock_" is not allowed in a host name (letters, digits and "-" only)`,
  "a/b___c": `name "a/b___c": path component "b___c" contains "___"; letters and digits are joined by one ".", one "_", "__", or any number of "-"`,
  "aa/asdf$$^/aa": `name "aa/asdf$$^/aa": path component "asdf$$^" contains "$"; only lowercase letters, digits and the separators ".", "_", "__" and "-" are allowed`,
  "docker///docker": `name "docker///docker": must not contain "//"`,
  "docker/": `name "docker/": must not end with "/"`,
  "/docker": `name "/docker": must not start with "/"`,
  "example.com/": `name "example.com/": the repository path after the registry is missing`,
  ["a".repeat(248)]:
    `name "${"a".repeat(100)}…": repository path is 256 characters long (with the implied "library/"), the limit is 255`,
  [`example.com/${"a".repeat(256)}`]: `name "example.com/${"a".repeat(88)}…": repository path is 256 characters long, the limit is 255`,

  // registry
  "foo.com:http/bar": `registry "foo.com:http": port "http" must be a number`,
  "foo.com:/bar": `registry "foo.com:": the port after ":" is missing`,
  "-foo.com/bar": `registry "-foo.com": host name label "-foo" must start and end with a letter or digit`,
  "foo..com/bar": `registry "foo..com": the host name has an empty label (a "." at the start or end, or "..")`,
  "bad_host.com:8080/app": `registry "bad_host.com:8080": "_" in "bad_host" is not allowed in a host name (letters, digits and "-" only)`,
  "fc00::1:5000/debian": `registry "fc00::1:5000": an IPv6 address must be written in brackets, e.g. "[fc00::1]:5000"`,
  "[fe80::1%eth0]:5000/debian": `registry "[fe80::1%eth0]:5000": "%" is not allowed in an IPv6 address: only hex digits and ":" (no zone, no embedded IPv4)`,
  "[::1:5000/debian": `registry "[::1:5000": the IPv6 address has no closing "]"`,
  "[]:5000/debian": `registry "[]:5000": the IPv6 address between the brackets is empty`,
  "[::1]5000/debian": `registry "[::1]5000": only ":" and a port may follow the "]" of an IPv6 address`,
  "[::1]:5000": `name "[::1]:5000": a registry must be followed by "/" and a repository path`,

  // tag
  "foo:-foo": `tag "-foo": must start with a letter, digit or underscore`,
  "foo:": `tag is empty: nothing follows ":"`,
  "foo:a~b": `tag "a~b": "~" is not allowed; a tag may contain only letters, digits, "_", "." and "-"`,
  "foo:a:b": `tag "a:b": ":" is not allowed; a tag may contain only letters, digits, "_", "." and "-"`,
  [`foo:${"t".repeat(129)}`]: `tag "${"t".repeat(129)}": is 129 characters long, the limit is 128`,

  // digest
  "foo@": `digest is empty: expected "algorithm:hex", e.g. "sha256:" and 64 hex digits`,
  "foo@abc": `digest "abc": expected "algorithm:hex", e.g. "sha256:" and 64 hex digits`,
  [`foo@:${hex64}`]: `digest ":${hex64}": the algorithm before ":" is missing`,
  "foo@sha256:abc": `digest "sha256:abc": sha256 needs 64 hex digits, got 3`,
  [`foo@sha512:${hex64}`]: `digest "sha512:${hex64}": sha512 needs 128 hex digits, got 64`,
  [`foo@sha256:${hex64.toUpperCase()}`]: `digest "sha256:${hex64.toUpperCase()}": hex digits must be lowercase`,
  [`foo@sha256:${hex64.slice(1)}g`]: `digest "sha256:${hex64.slice(1)}g": "g" is not a hex digit`,
  [`foo@SHA256:${hex64}`]: `digest "SHA256:${hex64}": algorithm "SHA256" must be lowercase`,
  [`foo@md5:${hex64}`]: `digest "md5:${hex64}": algorithm "md5" is not supported (use sha256, sha384, sha512)`,
  [`foo@1sha:${hex64}`]: `digest "1sha:${hex64}": algorithm "1sha" is malformed`,
};

for (const [input, message] of Object.entries(messages)) {
  test(`message for ${JSON.stringify(input.length > 70 ? `${input.slice(0, 50)}…` : input)}`, (t) => {
    const error = t.throws(() => parseReference(input), { instanceOf: InvalidReferenceError });
    t.is(error.message, message);
  });
}

test("errors carry a stable code, the input, and the DigestpinError base class", (t) => {
  const result = tryParseReference("foo:-foo");
  if (result.ok) return t.fail("expected an error");
  const { error } = result;
  t.true(error instanceof DigestpinError);
  t.is(error.name, "InvalidReferenceError");
  t.is(error.code, "ERR_INVALID_REFERENCE");
  t.is(InvalidReferenceError.code, "ERR_INVALID_REFERENCE");
  t.is(error.input, "foo:-foo");
});

test("messages quote control characters instead of printing them", (t) => {
  const error = t.throws(() => parseReference("foo\nbar/x"));
  t.false(error.message.includes("\n"));
  t.true(error.message.includes(String.raw`"foo\nbar"`));
});
