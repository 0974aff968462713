import test from "ava";
import {
  checkPolicyDocument,
  policyFromText,
  PolicyAssembler,
  type Policy,
} from "../../../src/policy/index.ts";
import { Metrics } from "../../../src/observability/index.ts";
import { PolicyResolver } from "../../../src/webhook/policy-resolver.ts";
import { startScriptedRegistry } from "../../harness/scripted-registry.ts";
import { ref } from "../../helpers/resolver-for.ts";

const OCI = "application/vnd.oci.image.manifest.v1+json";
const digest = (c: string) => `sha256:${c.repeat(64)}`;

/** A registry answering every manifest request with the digest `served` gives for its path. */
async function registryServing(
  t: Parameters<typeof startScriptedRegistry>[0],
  served: (path: string) => string,
) {
  const registry = await startScriptedRegistry(t);
  registry.handle((req, res) => {
    res.writeHead(200, {
      "content-type": OCI,
      "docker-content-digest": served(req.url ?? ""),
      "content-length": 0,
    });
    res.end();
  });
  return registry;
}

/** The policy's lines that trust `registry` and keep its answers for an hour. */
const trusting = (registry: { host: string; ca: { caPem: string } }): string[] => [
  "apiVersion: digestpin.dev/v1alpha1",
  "kind: Policy",
  "cacheTTL: 1h",
  "registries:",
  `  - host: "${registry.host}"`,
  "    allowPrivateAddresses: true",
  "    ca: |",
  ...registry.ca.caPem
    .trimEnd()
    .split("\n")
    .map((line) => `      ${line}`),
];

test("a new policy (an approval) empties the cache of registry answers; the same policy keeps it", async (t) => {
  let served = digest("d");
  const registry = await registryServing(t, () => served);
  const policyWith = (pin: string): Policy =>
    policyFromText(
      [...trusting(registry), "pins:", `  ${registry.host}/app:1: ${pin}`, ""].join("\n"),
      "policy.yaml",
    );
  let policy = policyWith(digest("d"));
  const resolver = new PolicyResolver(() => policy);
  t.teardown(() => resolver.close());
  const image = ref(`${registry.host}/app:1`);

  t.is((await resolver.resolve(image, {})).digest, digest("d"));
  served = digest("e"); // the tag moves
  t.is((await resolver.resolve(image, {})).digest, digest("d"), "cached for cacheTTL");
  policy = policyWith(digest("e")); // someone approves the new digest
  t.is((await resolver.resolve(image, {})).digest, digest("e"), "asked again after the approval");
  t.is(registry.requests.length, 2);
});

test("a pin edit forgets the cached answers of that tag only; other answers stay cached", async (t) => {
  const served = new Map([
    ["/v2/app/manifests/1", digest("d")],
    ["/v2/other/manifests/1", digest("a")],
  ]);
  const registry = await registryServing(t, (path) => served.get(path) ?? digest("0"));
  const settings = checkPolicyDocument([...trusting(registry), ""].join("\n"), "policy.yaml");
  const pinsAt = (app: string) =>
    checkPolicyDocument(
      `apiVersion: digestpin.dev/v1alpha1\nkind: Pins\npins:\n  ${registry.host}/app:1: ${app}\n  ${registry.host}/other:1: ${digest("a")}\n`,
      "pins.yaml",
    );
  const assembler = new PolicyAssembler();
  const first = assembler.assemble(settings, [pinsAt(digest("d"))]);
  if (!first.ok) throw new Error(JSON.stringify(first.issues));
  let policy = first.policy;
  const resolver = new PolicyResolver(() => policy);
  resolver.policyChanged(policy);
  t.teardown(() => resolver.close());
  const app = ref(`${registry.host}/app:1`);
  const other = ref(`${registry.host}/other:1`);
  t.is((await resolver.resolve(app, {})).digest, digest("d"));
  t.is((await resolver.resolve(other, {})).digest, digest("a"));
  served.set("/v2/app/manifests/1", digest("e")); // the tag moves
  t.is((await resolver.resolve(app, {})).digest, digest("d"), "cached for cacheTTL");

  const approved = assembler.assemble(settings, [pinsAt(digest("e"))]); // an approval
  if (!approved.ok) throw new Error(JSON.stringify(approved.issues));
  t.deepEqual([...(approved.policy.pinChanges ?? [])], [`${registry.host}/app:1`]);
  policy = approved.policy;
  resolver.policyChanged(policy);
  t.is((await resolver.resolve(app, {})).digest, digest("e"), "asked again after the approval");
  t.is((await resolver.resolve(other, {})).digest, digest("a"));
  t.deepEqual(
    registry.requests.map((request) => request.url),
    ["/v2/app/manifests/1", "/v2/other/manifests/1", "/v2/app/manifests/1"],
    "the other tag's answer stayed cached",
  );
});

test("metrics: a registry request is counted when the registry is asked, never for a cached answer; lookups count hits and misses", async (t) => {
  const registry = await startScriptedRegistry(t);
  registry.handle((req, res) => {
    const missing = req.url === "/v2/gone/manifests/1";
    res.writeHead(missing ? 404 : 200, {
      "content-type": OCI,
      "docker-content-digest": digest("d"),
      "content-length": 0,
    });
    res.end();
  });
  const policy = policyFromText(
    [
      "apiVersion: digestpin.dev/v1alpha1",
      "kind: Policy",
      "cacheTTL: 1h",
      "registries:",
      `  - host: "${registry.host}"`,
      "    allowPrivateAddresses: true",
      "    ca: |",
      ...registry.ca.caPem
        .trimEnd()
        .split("\n")
        .map((line) => `      ${line}`),
      "",
    ].join("\n"),
    "policy.yaml",
  );
  const metrics = new Metrics();
  const resolver = new PolicyResolver(() => policy, metrics);
  t.teardown(() => resolver.close());
  const app = ref(`${registry.host}/app:1`);
  const gone = ref(`${registry.host}/gone:1`);
  const answers = await Promise.all([resolver.resolve(app, {}), resolver.resolve(app, {})]);
  t.deepEqual(
    answers.map((answer) => answer.digest),
    [digest("d"), digest("d")],
  );
  for (let i = 0; i < 5; i++) t.is((await resolver.resolve(app, {})).digest, digest("d"));
  for (let i = 0; i < 2; i++) await t.throwsAsync(resolver.resolve(gone, {}));

  const text = await metrics.registry.metrics();
  const value = (series: string): number =>
    Number(new RegExp(`^${series.replace(/[{}]/g, "\\$&")} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
  const host = registry.host;
  t.is(value(`digestpin_registry_requests_total{registry="${host}",outcome="ok"}`), 1);
  t.is(
    value(`digestpin_registry_requests_total{registry="${host}",outcome="ERR_REGISTRY_NOT_FOUND"}`),
    1,
    "a failure is counted once; the cached failure after it is not a request",
  );
  t.is(
    value('digestpin_registry_cache_lookups_total{result="miss"}'),
    3,
    "two coalesced, one failure",
  );
  t.is(value('digestpin_registry_cache_lookups_total{result="hit"}'), 6);
  t.deepEqual(
    registry.requests.map((request) => request.url),
    ["/v2/app/manifests/1", "/v2/gone/manifests/1"],
  );
});
