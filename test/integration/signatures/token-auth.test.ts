import test from "ava";
import { signaturesTestbed } from "./testbed.ts";

// A registry with token auth: cosign signs as the pushing account, digestpin reads signatures as
// a pull-only account through the same token flow as tag resolution. Without credentials the
// signatures are unknown (registry-error), never "not signed".

const bed = signaturesTestbed(test, "cosign3", "token");

test("cosign v3's bundle and cosign v3's .sig (--new-bundle-format=false) verify as a pull-only reader", async (t) => {
  const { registry, cosign, qa, verify } = bed();
  const bundled = await bed().movedTag("team/app");
  await cosign.sign(registry.ref(`team/app@${bundled}`), qa);
  const tagged = await bed().movedTag("team/app");
  await cosign.sign(registry.ref(`team/app@${tagged}`), qa, ["--new-bundle-format=false"]);
  const one = await verify("team/app", bundled, [qa.key]);
  t.deepEqual(one.problems, []);
  t.deepEqual(
    one.verified.map((v) => [v.keyId, v.format]),
    [[qa.key.id, "bundle"]],
  );
  const other = await verify("team/app", tagged, [qa.key]);
  t.deepEqual(other.problems, []);
  t.deepEqual(
    other.verified.map((v) => [v.keyId, v.format]),
    [[qa.key.id, "sig-tag"]],
  );
});

test("without credentials the signatures are unknown, not missing", async (t) => {
  const { registry, cosign, qa, verify } = bed();
  const digest = await bed().movedTag("team/private");
  await cosign.sign(registry.ref(`team/private@${digest}`), qa);
  const check = await verify("team/private", digest, [qa.key], "anonymous");
  t.deepEqual(check.verified, []);
  t.deepEqual(
    check.problems.map((p) => [p.reason, p.format]),
    [
      ["registry-error", "sig-tag"],
      ["registry-error", "bundle"],
    ],
  );
  t.regex(
    check.problems[0]!.message,
    /^the cosign signature tag cannot be read: \S+ requires credentials for \S+\.sig; none were found \(add an imagePullSecret\)$/,
  );
});
