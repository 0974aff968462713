import test from "ava";
import { policyFromText, type Policy } from "../../../src/policy/index.ts";
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
