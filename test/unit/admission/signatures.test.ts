import { generateKeyPairSync } from "node:crypto";
import test from "ava";
import { handleReview } from "../../../src/admission/handler.ts";
import type { VerifySignaturesFn } from "../../../src/admission/signature-facts.ts";
import type { PinMove } from "../../../src/policy/index.ts";
import {
  D,
  decodePatch,
  digest,
  E,
  harness,
  pinnedPolicy,
  pod,
  podSpec,
  request,
} from "./fixtures.ts";

// A review of a moved tag that approver keys signed: the pin moves before the Pod is admitted,
// never on a dry run; a pin that cannot be moved denies the Pod.

const PEM = generateKeyPairSync("ec", { namedCurve: "P-256" })
  .publicKey.export({ type: "spki", format: "pem" })
  .toString()
  .trim()
  .split("\n")
  .map((line) => `          ${line}`)
  .join("\n");

const policy = pinnedPolicy(`signatures:
  - images: ["docker.io/library/busybox:*"]
    keys:
      - name: qa
        pem: |
${PEM}
approvals:
  signedBy: [qa]
`);

const signedByQa: VerifySignaturesFn = (_name, d) =>
  Promise.resolve(
    d === E
      ? {
          signers: [
            { keyName: "qa", keyId: digest("9"), signatureDigest: digest("5"), format: "bundle" },
          ],
          problems: [],
        }
      : { signers: [], problems: [] },
  );

const registry = { "docker.io/library/busybox:1.36": E };
const review = (dryRun = false) =>
  request("Pod", pod(podSpec({ app: "busybox:1.36" })), { dryRun });

test("the pin moves, then the Pod is admitted at the signed digest", async (t) => {
  const moves: PinMove[] = [];
  const { deps } = harness(policy, registry, {
    verifySignatures: signedByQa,
    movePin: (move) => {
      moves.push(move);
      return Promise.resolve(move.digest);
    },
  });
  const { response, judged } = await handleReview("mutate", review(), deps);
  t.true(response.allowed);
  t.like((decodePatch(response.patch) as object[])[0], { value: `busybox:1.36@${E}` });
  t.is(judged[0]?.decision.reason, "signature-approved");
  t.deepEqual(moves, [
    {
      key: "docker.io/library/busybox:1.36",
      from: D,
      digest: E,
      pinnedBy: "signature qa (sha256:999999999999)",
      reason: `signed ${E}: signature ${digest("5")} (bundle)`,
    },
  ]);
});

test("a dry run is admitted at the signed digest and moves nothing", async (t) => {
  let called = false;
  const { deps } = harness(policy, registry, {
    verifySignatures: signedByQa,
    movePin: () => {
      called = true;
      return Promise.resolve(E);
    },
  });
  const { response } = await handleReview("mutate", review(true), deps);
  t.true(response.allowed);
  t.false(called);
});

test("a pin that cannot be moved, or moved elsewhere meanwhile, denies the Pod", async (t) => {
  const failing = harness(policy, registry, {
    verifySignatures: signedByQa,
    movePin: () => Promise.reject(new Error("configmaps is forbidden")),
  });
  const failed = await handleReview("mutate", review(), failing.deps);
  t.false(failed.response.allowed);
  t.regex(
    failed.response.status?.message ?? "",
    /moved to sha256:e{64}, which signature qa \(sha256:999999999999\) approved, but the pin could not be moved \(configmaps is forbidden\); retry\./,
  );
  const other = digest("7");
  const raced = harness(policy, registry, {
    verifySignatures: signedByQa,
    movePin: () => Promise.resolve(other),
  });
  const lost = await handleReview("mutate", review(), raced.deps);
  t.false(lost.response.allowed);
  t.regex(lost.response.status?.message ?? "", new RegExp(`its pin changed to ${other} meanwhile`));
  const none = harness(policy, registry, { verifySignatures: signedByQa });
  const unstored = await handleReview("mutate", review(), none.deps);
  t.false(unstored.response.allowed);
  t.regex(unstored.response.status?.message ?? "", /need the policy in ConfigMaps/);
});

test("a required signature kept verified is answered at once, as it would be later", async (t) => {
  const requiring = pinnedPolicy(`signatures:
  - images: ["docker.io/library/busybox:*"]
    required: true
    keys:
      - name: qa
        pem: |
${PEM}
`);
  const signedAt = (d: string) => ({
    signers: [
      { keyName: "qa", keyId: digest("9"), signatureDigest: d, format: "sig-tag" as const },
    ],
    problems: [],
  });
  const atHand = { "docker.io/library/busybox:1.36": D };
  const given = harness(requiring, atHand, { verifySignatures: (_name, d) => signedAt(d) }).deps;
  const now = handleReview("mutate", review(), {
    ...given,
    resolve: (ref) => ({
      digest: atHand[`${ref.registry}/${ref.repository}:${ref.tag ?? ""}` as keyof typeof atHand],
      mediaType: "application/vnd.oci.image.index.v1+json",
      size: 1,
      platforms: undefined,
      endpoint: "x",
    }),
    keychainFor: () => () => undefined,
  });
  t.false(now instanceof Promise, "every answer at hand: nothing awaited");
  const later = await handleReview(
    "mutate",
    review(),
    harness(requiring, atHand, { verifySignatures: (_name, d) => Promise.resolve(signedAt(d)) })
      .deps,
  );
  const { response, judged } = await now;
  t.true(response.allowed);
  t.is(judged[0]?.decision.reason, "pinned");
  t.deepEqual(response, later.response);
});
