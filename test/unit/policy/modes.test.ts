import test from "ava";
import {
  decide,
  MODES,
  type Decision,
  type DecisionReason,
  type RegistryObservation,
} from "../../../src/policy/index.ts";
import { decisionPolicy, digest, E, X } from "./fixtures.ts";

const unavailable: RegistryObservation = {
  error: { code: "ERR_REGISTRY_UNREACHABLE", message: "connection refused", unavailable: true },
};
const forbidden: RegistryObservation = {
  error: { code: "ERR_REGISTRY_DENIED", message: "403 Forbidden", unavailable: false },
};

/** Every way to be denied: settings, image, and what the registry says (if it is asked). */
const denials: {
  reason: DecisionReason;
  settings: string;
  image: string;
  observed?: RegistryObservation;
}[] = [
  { reason: "invalid-reference", settings: "", image: "Busybox:1" },
  {
    reason: "registry-not-allowed",
    settings: "registries:\n  - host: ghcr.io\n",
    image: "quay.io/x/y:1",
  },
  { reason: "drift", settings: "", image: "busybox:1.36", observed: { digest: E } },
  {
    reason: "registry-unavailable",
    settings: "registryUnavailable: deny\n",
    image: "busybox:1.36",
    observed: unavailable,
  },
  {
    reason: "registry-unavailable",
    settings: "unpinned: trust-on-first-use\n",
    image: "busybox:9",
    observed: unavailable,
  },
  { reason: "registry-error", settings: "", image: "busybox:1.36", observed: forbidden },
  { reason: "unpinned", settings: "", image: "busybox:9" },
  { reason: "digest-mismatch", settings: "", image: `busybox:1.36@${X}` },
  { reason: "digest-unknown", settings: "", image: `ghcr.io/acme/app@${digest("3")}` },
];

const context = { namespace: "default", dryRun: false };

function decideIn(mode: string, row: (typeof denials)[number]): Decision {
  const policy = decisionPolicy(`mode: ${mode}\n${row.settings}`);
  const result = decide(row.image, context, policy, row.observed);
  if (result.action === "lookup") throw new Error("unexpected lookup");
  return result;
}

for (const row of denials) {
  const name = `${row.reason}${row.settings === "" ? "" : ` (${row.settings.split("\n")[0]})`}`;

  test(`enforce denies: ${name}`, (t) => {
    const decision = decideIn("enforce", row);
    t.is(decision.action, "deny");
    t.is(decision.reason, row.reason);
    t.true(decision.wouldDeny);
    t.is(decision.warning, undefined);
    t.is(decision.audit, undefined);
  });

  test(`warn admits unchanged with a warning: ${name}`, (t) => {
    const enforced = decideIn("enforce", row);
    const decision = decideIn("warn", row);
    t.is(decision.action, "allow");
    t.is(decision.reason, row.reason);
    t.true(decision.wouldDeny);
    t.is(decision.message, enforced.message);
    t.regex(decision.warning ?? "", /^would deny .*\(mode: warn\)$/);
    t.true((decision.warning ?? "").length <= 120);
    t.is(decision.audit, undefined);
  });

  test(`audit admits unchanged with an audit note and no warning: ${name}`, (t) => {
    const enforced = decideIn("enforce", row);
    const decision = decideIn("audit", row);
    t.is(decision.action, "allow");
    t.is(decision.reason, row.reason);
    t.true(decision.wouldDeny);
    t.is(decision.audit, enforced.message);
    t.is(decision.warning, undefined);
  });
}

test("modes leave admissions alone: a pinned tag is mutated in every mode", (t) => {
  for (const mode of MODES) {
    const policy = decisionPolicy(`mode: ${mode}\n`);
    const result = decide("busybox:1.36", context, policy, { digest: digest("d") });
    t.is(result.action, "mutate", mode);
    t.false(result.action !== "lookup" && result.wouldDeny);
  }
});

test("the warn-mode warning for drift names both digests", (t) => {
  const decision = decideIn("warn", denials[2]!);
  t.is(
    decision.warning,
    "would deny busybox:1.36: tag moved: pinned sha256:dddddddddddd, registry serves sha256:eeeeeeeeeeee (mode: warn)",
  );
});
