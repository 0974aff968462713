import test from "ava";
import { compileGlob, globProblem } from "../../../src/policy/document/glob.ts";

const matches = (pattern: string, text: string): boolean => compileGlob(pattern).matches(text);

test("* stays within a path segment", (t) => {
  t.true(matches("registry.k8s.io/pause:*", "registry.k8s.io/pause:3.9"));
  t.false(matches("registry.k8s.io/*:3.9", "registry.k8s.io/a/pause:3.9"));
  t.true(matches("registry.k8s.io/*:3.9", "registry.k8s.io/pause:3.9"));
  t.true(matches("*.example.com/app:*", "registry.example.com/app:v1"));
  t.false(matches("ghcr.io/acme/*", "ghcr.io/acme/tools/x:1"));
});

test("** crosses segments", (t) => {
  t.true(matches("ghcr.io/acme/tools/**", "ghcr.io/acme/tools/x/y:1"));
  t.true(matches("ghcr.io/acme/tools/**", "ghcr.io/acme/tools/x:1"));
  t.false(matches("ghcr.io/acme/tools/**", "ghcr.io/acme/toolsx:1"));
  t.true(matches("**/pause:*", "registry.k8s.io/pause:3.9"));
  t.true(matches("ghcr.io/**:v1", "ghcr.io/a/b/c:v1"));
});

test("other characters are literal, including regular-expression ones", (t) => {
  t.true(matches("docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36"));
  t.false(matches("docker.io/library/busybox:1.36", "docker.io/library/busybox:1x36"));
  t.false(matches("docker.io/library/busybox:1.3?", "docker.io/library/busybox:1.36"));
  t.false(matches("docker.io/library/busybox:*", "docker.io/library/busybox"));
});

test("a pathological pattern against a long input finishes (no backtracking)", (t) => {
  const pattern = `ghcr.io/${"**a".repeat(30)}b`;
  const text = `ghcr.io/${"a".repeat(5000)}`;
  t.false(matches(pattern, text));
  t.true(matches(pattern, `${text}b`));
});

test("patterns must be able to match a canonical reference", (t) => {
  t.is(globProblem("registry.k8s.io/pause:*"), null);
  t.is(globProblem("**/pause:*"), null);
  t.is(globProblem("localhost/app:*"), null);
  t.is(
    globProblem("busybox:*"),
    '"busybox:*" never matches: patterns match the canonical reference, which starts with the registry; write "docker.io/library/busybox:*"',
  );
  t.regex(globProblem("acme/app:*") ?? "", /write "docker\.io\/acme\/app:\*"$/);
  t.is(globProblem(""), "the pattern is empty");
  t.is(globProblem("ghcr.io/a b"), '"ghcr.io/a b" contains white space');
});
