import test from "ava";
import {
  checkPolicyDocument,
  policyFromText,
  PolicyAssembler,
  type Policy,
} from "../../../src/policy/index.ts";
import { PolicyResolver } from "../../../src/webhook/policy-resolver.ts";
import { startScriptedRegistry } from "../../harness/scripted-registry.ts";
import { ref } from "../../helpers/resolver-for.ts";

const OCI = "application/vnd.oci.image.manifest.v1+json";
const digest = (c: string) => `sha256:${c.repeat(64)}`;

test("a new policy (an approval) empties the cache of registry answers; the same policy keeps it", async (t) => {
  const registry = await startScriptedRegistry(t);
  let served = digest("d");
  registry.handle((_req, res) => {
    res.writeHead(200, {
      "content-type": OCI,
      "docker-content-digest": served,
      "content-length": 0,
    });
    res.end();
  });
  const policyWith = (pin: string): Policy =>
    policyFromText(
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
        "pins:",
        `  ${registry.host}/app:1: ${pin}`,
        "",
      ].join("\n"),
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
  const registry = await startScriptedRegistry(t);
  const served = new Map([
    ["/v2/app/manifests/1", digest("d")],
    ["/v2/other/manifests/1", digest("a")],
  ]);
  registry.handle((req, res) => {
    res.writeHead(200, {
      "content-type": OCI,
      "docker-content-digest": served.get(req.url ?? "") ?? digest("0"),
      "content-length": 0,
    });
    res.end();
  });
  const settings = checkPolicyDocument(
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
