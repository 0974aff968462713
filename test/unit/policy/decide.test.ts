import test from "ava";
import {
  decide,
  type DecideResult,
  type Decision,
  type Policy,
  type RegistryObservation,
} from "../../../src/policy/index.ts";
import { ARM, D, decisionPolicy, digest, E, policyOf, X } from "./fixtures.ts";

const context = { namespace: "default", dryRun: false };
const unavailable: RegistryObservation = {
  error: { code: "ERR_REGISTRY_TIMEOUT", message: "no answer within 10s", unavailable: true },
};
const notFound: RegistryObservation = {
  error: { code: "ERR_REGISTRY_NOT_FOUND", message: "manifest unknown", unavailable: false },
};

/** decide() that must not ask the registry. */
function final(image: string, policy: Policy, ctx = context): Decision {
  const result = decide(image, ctx, policy);
  if (result.action === "lookup") throw new Error(`unexpected lookup for ${image}`);
  return result;
}

/** decide() that must ask the registry first, then gets `observed`. */
function looked(
  image: string,
  policy: Policy,
  observed: RegistryObservation,
  ctx = context,
): Decision {
  const first: DecideResult = decide(image, ctx, policy);
  if (first.action !== "lookup")
    throw new Error(`expected a lookup for ${image}, got ${first.action}`);
  const second = decide(image, ctx, policy, observed);
  if (second.action === "lookup") throw new Error("asked twice");
  return second;
}

test("invalid syntax: deny, saying what is wrong", (t) => {
  const decision = final("Busybox:1", decisionPolicy());
  t.is(decision.action, "deny");
  t.is(decision.reason, "invalid-reference");
  t.is(decision.reference, null);
  t.is(
    decision.message,
    'image "Busybox:1" is not a valid image reference: name "Busybox": repository path must be lowercase. Fix the image in the pod spec.',
  );
});

test("registry not allowed: deny without asking the registry", (t) => {
  const policy = decisionPolicy("registries:\n  - host: ghcr.io\n");
  const decision = final("quay.io/evil/x:1", policy);
  t.is(decision.action, "deny");
  t.is(decision.reason, "registry-not-allowed");
  t.regex(
    decision.message,
    /registry "quay\.io", which the policy does not allow \(registries: ghcr\.io\); digestpin did not contact it/,
  );
  t.is(final(`quay.io/evil/x@${D}`, policy).reason, "registry-not-allowed");
  t.is(looked("ghcr.io/acme/app:v1", policy, { digest: digest("2") }).reason, "pinned");
});

test("exempt namespace: allow unchanged, even an invalid image, without a lookup", (t) => {
  const policy = decisionPolicy("exempt:\n  namespaces: [kube-system]\n");
  const ctx = { namespace: "kube-system", dryRun: false };
  for (const image of ["busybox:1.36", "Invalid:x", "quay.io/x:1"]) {
    const decision = final(image, policy, ctx);
    t.is(decision.action, "allow");
    t.is(decision.reason, "exempt-namespace");
    t.is(decision.warning, undefined);
  }
  t.is(final("busybox:1.36", policy, ctx).reference?.tag, "1.36");
});

test("exempt image pattern: allow unchanged, before the registries check", (t) => {
  const policy = decisionPolicy(`registries:
  - host: docker.io
exempt:
  images: ["registry.k8s.io/pause:*", "ghcr.io/acme/tools/**"]
`);
  for (const image of [
    "registry.k8s.io/pause:3.9",
    `registry.k8s.io/pause:3.9@${X}`,
    "ghcr.io/acme/tools/a/b:1",
  ]) {
    const decision = final(image, policy);
    t.is(decision.action, "allow", image);
    t.is(decision.reason, "exempt-image");
  }
  t.is(final("registry.k8s.io/pause@" + X, policy).reason, "registry-not-allowed");
});

test("repo:tag pinned D, registry serves D: mutate to repo:tag@D", (t) => {
  const decision = looked("busybox:1.36", decisionPolicy(), { digest: D });
  t.is(decision.action, "mutate");
  t.is(decision.reason, "pinned");
  t.true(decision.action === "mutate" && decision.image === `busybox:1.36@${D}`);
  t.true(decision.action === "mutate" && decision.digest === D && decision.record === undefined);
  t.false(decision.wouldDeny);
});

test("the lookup names the reference and its canonical key", (t) => {
  const result = decide("busybox:1.36", context, decisionPolicy());
  t.deepEqual(result, {
    action: "lookup",
    reference: { registry: "docker.io", repository: "library/busybox", tag: "1.36", digest: null },
    key: "docker.io/library/busybox:1.36",
  });
});

test("drift: deny naming D, E, when and by whom, and how to approve", (t) => {
  const decision = looked("busybox:1.36", decisionPolicy(), { digest: E });
  t.is(decision.action, "deny");
  t.is(decision.reason, "drift");
  t.is(
    decision.message,
    `image "busybox:1.36": the tag moved. docker.io/library/busybox:1.36 is pinned to ${D} ` +
      `(pinned at 2026-11-26T10:00:00Z by alice@example.com, reason "reviewed release"), but the ` +
      `registry now serves ${E}. Review the new image; to accept it run digestpin approve ` +
      `docker.io/library/busybox:1.36 --digest ${E} --reason "…"; to deploy the reviewed image ` +
      `meanwhile, use busybox:1.36@${D}.`,
  );
  const bare = looked("ghcr.io/acme/app:v1", decisionPolicy(), { digest: E });
  t.regex(bare.message, /pinned, when and by whom is not recorded/);
});

test("drift: warn admits at the pinned digest with a warning", (t) => {
  const decision = looked("busybox:1.36", decisionPolicy("drift: warn\n"), { digest: E });
  t.is(decision.action, "mutate");
  t.is(decision.reason, "drift");
  t.true(decision.action === "mutate" && decision.image === `busybox:1.36@${D}`);
  t.is(
    decision.warning,
    "busybox:1.36 moved to sha256:eeeeeeeeeeee, admitted at pin sha256:dddddddddddd (drift: warn)",
  );
  t.false(decision.wouldDeny);
});

test("pinned, registry unavailable: use-pin mutates to D with a warning; deny denies", (t) => {
  const usePin = looked("busybox:1.36", decisionPolicy(), unavailable);
  t.is(usePin.action, "mutate");
  t.is(usePin.reason, "registry-unavailable");
  t.true(usePin.action === "mutate" && usePin.image === `busybox:1.36@${D}`);
  t.is(
    usePin.warning,
    "registry unavailable; busybox:1.36 admitted at its pin sha256:dddddddddddd",
  );
  t.regex(usePin.message, /ERR_REGISTRY_TIMEOUT: no answer within 10s/);

  const denied = looked("busybox:1.36", decisionPolicy("registryUnavailable: deny\n"), unavailable);
  t.is(denied.action, "deny");
  t.is(denied.reason, "registry-unavailable");
  t.regex(
    denied.message,
    /registryUnavailable: deny\)\. Retry later, or use busybox:1\.36@sha256:d{64}\.$/,
  );
});

test("a registry error that is an answer (404, 401) denies, naming the code", (t) => {
  const pinned = looked("busybox:1.36", decisionPolicy(), notFound);
  t.is(pinned.action, "deny");
  t.is(pinned.reason, "registry-error");
  t.regex(
    pinned.message,
    /answered with an error for docker\.io\/library\/busybox:1\.36: ERR_REGISTRY_NOT_FOUND: manifest unknown\. The pin is sha256:d{64}\./,
  );
  const unpinned = looked("busybox:9", decisionPolicy("unpinned: resolve\n"), notFound);
  t.is(unpinned.reason, "registry-error");
  const garbage = looked("busybox:1.36", decisionPolicy(), { digest: "sha256:nope" });
  t.is(garbage.reason, "registry-error");
  t.regex(garbage.message, /ERR_INVALID_DIGEST/);
});

test("unpinned: deny (the default) denies without asking the registry", (t) => {
  const decision = final("busybox:9", decisionPolicy());
  t.is(decision.action, "deny");
  t.is(decision.reason, "unpinned");
  t.is(
    decision.message,
    'image "busybox:9": docker.io/library/busybox:9 is not pinned, and the policy denies unpinned images (unpinned: deny). Add a pin for docker.io/library/busybox:9 to the policy\'s pins, or use a pinned image.',
  );
});

test("unpinned: trust-on-first-use records E and mutates", (t) => {
  const ctx = { namespace: "team-a", dryRun: false };
  const decision = looked(
    "busybox:9",
    decisionPolicy("unpinned: trust-on-first-use\n"),
    { digest: E },
    ctx,
  );
  t.is(decision.action, "mutate");
  t.is(decision.reason, "trust-on-first-use");
  if (decision.action !== "mutate") return;
  t.is(decision.image, `busybox:9@${E}`);
  t.deepEqual(decision.record, {
    key: "docker.io/library/busybox:9",
    digest: E,
    pinnedBy: "digestpin (trust-on-first-use)",
    reason: "first used in namespace team-a",
    history: [],
  });
  t.is(decision.warning, "pinned docker.io/library/busybox:9 to sha256:eeeeeeeeeeee on first use");
});

test("unpinned: trust-on-first-use on dry-run mutates without recording, and says so", (t) => {
  const ctx = { namespace: "team-a", dryRun: true };
  const decision = looked(
    "busybox:9",
    decisionPolicy("unpinned: trust-on-first-use\n"),
    { digest: E },
    ctx,
  );
  t.is(decision.action, "mutate");
  t.is(decision.reason, "trust-on-first-use");
  t.true(decision.action === "mutate" && decision.record === undefined);
  t.true(decision.action === "mutate" && decision.image === `busybox:9@${E}`);
  t.regex(
    decision.message,
    /^dry run: .* would pin it to sha256:e{64} on first use \(nothing recorded\)$/,
  );
  t.is(
    decision.warning,
    "dry run: would pin docker.io/library/busybox:9 to sha256:eeeeeeeeeeee (trust-on-first-use)",
  );
});

test("unpinned: trust-on-first-use or resolve with the registry unavailable denies", (t) => {
  for (const mode of ["trust-on-first-use", "resolve"]) {
    const decision = looked("busybox:9", decisionPolicy(`unpinned: ${mode}\n`), unavailable);
    t.is(decision.action, "deny");
    t.is(decision.reason, "registry-unavailable");
    t.regex(decision.message, /is not pinned and the registry could not be asked/);
  }
});

test("unpinned: resolve mutates to E and records nothing", (t) => {
  const decision = looked("busybox:9", decisionPolicy("unpinned: resolve\n"), { digest: E });
  t.is(decision.action, "mutate");
  t.is(decision.reason, "resolved");
  t.true(
    decision.action === "mutate" &&
      decision.image === `busybox:9@${E}` &&
      decision.record === undefined,
  );
  t.is(decision.warning, undefined);
});

test("unpinned: allow admits unchanged with a warning, without asking", (t) => {
  const decision = final("busybox:9", decisionPolicy("unpinned: allow\n"));
  t.is(decision.action, "allow");
  t.is(decision.reason, "unpinned-allowed");
  t.is(decision.warning, "busybox:9 is not pinned; admitted unchanged (unpinned: allow)");
});

test("repo:tag@D pinned D: allow without asking (also a recorded platform digest)", (t) => {
  for (const image of [`busybox:1.36@${D}`, `docker.io/library/busybox:1.36@${ARM}`]) {
    const decision = final(image, decisionPolicy());
    t.is(decision.action, "allow");
    t.is(decision.reason, "digest-pinned");
  }
  t.regex(final(`busybox:1.36@${ARM}`, decisionPolicy()).message, /\(its linux\/arm64 manifest\)/);
});

test("repo:tag@X with the tag pinned to D: deny, the digest does not match", (t) => {
  const decision = final(`busybox:1.36@${X}`, decisionPolicy());
  t.is(decision.action, "deny");
  t.is(decision.reason, "digest-mismatch");
  t.is(
    decision.message,
    `image "busybox:1.36@${X}": digest ${X} does not match the pin: docker.io/library/busybox:1.36 ` +
      `is pinned to ${D} (pinned at 2026-11-26T10:00:00Z by alice@example.com, reason "reviewed release"). ` +
      `Use busybox:1.36@${D}; to pin the new digest instead, review it and run digestpin approve ` +
      `docker.io/library/busybox:1.36 --digest ${X} --reason "…"`,
  );
  t.is(final(`busybox:1.36@${digest("1")}`, decisionPolicy()).reason, "digest-mismatch");
});

test("repo@D with D pinned for some tag of repo: allow without asking", (t) => {
  const decision = final(`ghcr.io/acme/app@${digest("2")}`, decisionPolicy());
  t.is(decision.action, "allow");
  t.is(decision.reason, "digest-known");
  t.is(decision.message, `${digest("2")} is pinned as ghcr.io/acme/app:v1, ghcr.io/acme/app:v1.0`);
  t.is(final(`busybox@${ARM}`, decisionPolicy()).reason, "digest-known");
  t.is(final(`ghcr.io/acme/app:v2@${digest("2")}`, decisionPolicy()).reason, "digest-known");
});

test("repo@X not pinned for repo: by unpinned", (t) => {
  const image = `ghcr.io/acme/app@${digest("3")}`; // pinned, but for another repository
  const denied = final(image, decisionPolicy());
  t.is(denied.action, "deny");
  t.is(denied.reason, "digest-unknown");
  t.regex(denied.message, /digest sha256:3{64} is not pinned for any tag of ghcr\.io\/acme\/app/);

  const allowed = final(image, decisionPolicy("unpinned: allow\n"));
  t.is(allowed.action, "allow");
  t.is(allowed.reason, "digest-unknown");
  t.is(allowed.warning?.endsWith("is not pinned; admitted unchanged (unpinned: allow)"), true);

  for (const mode of ["resolve", "trust-on-first-use"]) {
    const decision = final(image, decisionPolicy(`unpinned: ${mode}\n`));
    t.is(decision.action, "allow", mode);
    t.is(decision.reason, "digest-unknown");
    t.is(decision.warning, undefined);
    t.regex(decision.message, /nothing is recorded/);
  }
  t.is(final(`busybox:9@${X}`, decisionPolicy()).reason, "digest-unknown");
});

test("warnings never exceed 120 characters", (t) => {
  const long = `registry.example.com/${"a".repeat(150)}/app:${"v".repeat(100)}`;
  const policy = policyOf(
    `unpinned: allow\ndrift: warn\npins:\n  ${long.replace(":v", ":w")}: ${D}\n`,
  );
  const decisions = [
    final(long, policy),
    looked(long.replace(":v", ":w"), policy, { digest: E }),
    looked(long.replace(":v", ":w"), policy, unavailable),
  ];
  for (const decision of decisions) {
    t.truthy(decision.warning);
    t.true((decision.warning ?? "").length <= 120, decision.warning);
  }
});
