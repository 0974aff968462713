import test from "ava";
import { checkPolicyDocument, formatIssue } from "../../../src/policy/index.ts";
import { findRegistryConfig } from "../../../src/registry/registry-config.ts";
import { HEADER, policyOf } from "./fixtures.ts";

function errors(body: string): string[] {
  const result = checkPolicyDocument(HEADER + body, "policy.yaml");
  return result.ok ? [] : result.issues.map(formatIssue);
}

const CA = `-----BEGIN CERTIFICATE-----
MIIBozCCAUmgAwIBAgIUHqdSmsZkCM0L69XNpdFnEQDI+hAwCgYIKoZIzj0EAwIw
JzElMCMGA1UEAwwcRXhhbXBsZSBJbnRlcm5hbCBSZWdpc3RyeSBDQTAeFw0yNjEx
MjYxNTI2MzZaFw0zNjExMjMxNTI2MzZaMCcxJTAjBgNVBAMMHEV4YW1wbGUgSW50
ZXJuYWwgUmVnaXN0cnkgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATQPSMQ
jflENMa9Kc/a440Bvawdz9z+Xf+cDJxPeNPW7lEP8iXAM2nfHplOoXX9Xa+ycf05
IQo5wt8TdoR5wxGzo1MwUTAdBgNVHQ4EFgQUUCS9e3NT4HrYB5lc8/chBvF5ZvIw
HwYDVR0jBBgwFoAUUCS9e3NT4HrYB5lc8/chBvF5ZvIwDwYDVR0TAQH/BAUwAwEB
/zAKBggqhkjOPQQDAgNIADBFAiEA6aGay8ka9/vBi7YTDZRguRGlw7mslgFgME73
0NjpGy0CICB6Vf2IZB9TixtQUEtwJ0C/Yqh3ycITKI4xuLZTRVIV
-----END CERTIFICATE-----`;

const indent = (text: string, spaces: number): string => text.replace(/^/gm, " ".repeat(spaces));

test("a PEM bundle is kept as written", (t) => {
  const policy = policyOf(`registries:\n  - host: r.example.com\n    ca: |\n${indent(CA, 6)}\n`);
  t.is(policy.settings.registries?.[0]?.ca, `${CA}\n`);
});

test("a ca that is no certificate is an error", (t) => {
  t.deepEqual(errors(`registries:\n  - host: r.example.com\n    ca: not a certificate\n`), [
    "policy.yaml:5:9: registries[0].ca: expected PEM certificates (-----BEGIN CERTIFICATE----- …)",
  ]);
  const broken = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----";
  const found = errors(`registries:\n  - host: r.example.com\n    ca: |\n${indent(broken, 6)}\n`);
  t.is(found.length, 1);
  t.regex(found[0]!, /^policy\.yaml:5:9: registries\[0\]\.ca: certificate 1 of 1 cannot be read: /);
});

test("hosts: host[:port], *.domain, * and bracketed IPv6; no scheme or path", (t) => {
  t.deepEqual(
    errors(`registries:
  - host: ghcr.io
  - host: localhost:5000
  - host: "*.example.com:443"
  - host: "*"
  - host: "[fd00::1]:5000"
  - host: 10.0.0.7:5000
`),
    [],
  );
  t.deepEqual(
    errors(`registries:
  - host: https://ghcr.io
  - host: ghcr.io/acme
  - host: "ex ample.com"
  - host: "*.*.example.com"
  - mirrors: []
  - host: 5000
`),
    [
      'policy.yaml:4:11: registries[0].host: "https://ghcr.io": write the host without a scheme (e.g. "ghcr.io")',
      'policy.yaml:5:11: registries[1].host: "ghcr.io/acme": write the host[:port] only, without a path',
      'policy.yaml:6:11: registries[2].host: "ex ample.com" is not a registry host[:port], "*.domain[:port]" or "*"',
      'policy.yaml:7:11: registries[3].host: "*.*.example.com" is not a registry host[:port], "*.domain[:port]" or "*"',
      'policy.yaml:8:5: registries[4].host: is required, e.g. "registry.example.com:5000"',
      "policy.yaml:9:11: registries[5].host: expected a string, got the number 5000",
    ],
  );
});

test("one host listed twice is an error naming both entries", (t) => {
  t.deepEqual(errors(`registries:\n  - host: docker.io\n  - host: Index.Docker.io\n`), [
    'policy.yaml:5:5: registries[1]: host "Index.Docker.io" is already listed at registries[0] (line 4:5)',
  ]);
});

test("an empty list is an error: it would deny everything", (t) => {
  t.deepEqual(errors(`registries: []\n`), [
    "policy.yaml:3:13: registries: is empty, which would deny every image; omit the key to allow any registry",
  ]);
});

test("mirrors: https, or http only for an insecure registry; no credentials", (t) => {
  t.deepEqual(
    errors(`registries:
  - host: a.example.com
    mirrors: ["http://m.internal", "ftp://m.internal", "https://u:p@m.internal", "nope", "https://m.internal/?x=1"]
  - host: b.example.com
    insecure: yes
  - host: c.example.com
    insecure: true
    mirrors: ["http://m.internal:5000"]
`),
    [
      'policy.yaml:5:15: registries[0].mirrors[0]: "http://m.internal" is plain HTTP: use https:// or set insecure: true for this registry',
      'policy.yaml:5:36: registries[0].mirrors[1]: "ftp://m.internal" must start with https:// (or http:// with insecure: true)',
      'policy.yaml:5:56: registries[0].mirrors[2]: "https://u:p@m.internal" contains credentials: put them in credentialsSecret',
      'policy.yaml:5:82: registries[0].mirrors[3]: "nope" is not a URL (e.g. "https://mirror.internal:5000")',
      'policy.yaml:5:90: registries[0].mirrors[4]: "https://m.internal/?x=1" must not have a query or fragment',
      'policy.yaml:7:15: registries[1].insecure: expected true or false, got "yes"',
    ],
  );
});

test("credentialsSecret is namespace/name or name", (t) => {
  t.deepEqual(
    errors(`registries:
  - host: a.example.com
    credentialsSecret: a/b/c
  - host: b.example.com
    credentialsSecret: Bad_NS/regcred
  - host: c.example.com
    credentialsSecret: ns/Bad_Name
`),
    [
      'policy.yaml:5:24: registries[0].credentialsSecret: "a/b/c": expected "namespace/name" or "name"',
      'policy.yaml:7:24: registries[1].credentialsSecret: "Bad_NS" is not a namespace name (lowercase letters, digits and "-", at most 63)',
      'policy.yaml:9:24: registries[2].credentialsSecret: "Bad_Name" is not a Kubernetes object name (lowercase letters, digits, "-" and ".")',
    ],
  );
});

test("allows(): exact host[:port], docker.io under both names, wildcards of one or more labels", (t) => {
  const { registries } = policyOf(`registries:
  - host: docker.io
  - host: registry.example.com:5000
  - host: "*.corp.example.com"
`);
  t.true(registries.restricted);
  t.true(registries.allows("docker.io"));
  t.true(registries.allows("index.docker.io"));
  t.true(registries.allows("registry.example.com:5000"));
  t.false(registries.allows("registry.example.com"));
  t.true(registries.allows("a.corp.example.com"));
  t.true(registries.allows("a.b.corp.example.com"));
  t.false(registries.allows("corp.example.com"));
  t.false(registries.allows("a.corp.example.com:5000"));
  t.false(registries.allows("ghcr.io"));
  t.deepEqual(registries.hosts, ["docker.io", "registry.example.com:5000", "*.corp.example.com"]);
});

test("no registries: any registry by name; `*` also allows any", (t) => {
  t.true(policyOf("").registries.allows("anything.example.com"));
  t.false(policyOf("").registries.restricted);
  t.true(policyOf(`registries:\n  - host: "*"\n`).registries.allows("anything.example.com"));
});

test("the rules go to the resolver as they are: same entry for the same host", (t) => {
  const { settings } = policyOf(`registries:
  - host: "*.example.com"
    insecure: true
  - host: a.example.com
    mirrors: ["https://m.example.com"]
`);
  const rules = settings.registries ?? [];
  t.is(findRegistryConfig("a.example.com", rules)?.mirrors?.[0], "https://m.example.com");
  t.is(findRegistryConfig("b.example.com", rules)?.insecure, true);
  t.is(findRegistryConfig("ghcr.io", rules), undefined);
});
