import test from "ava";
import {
  decide,
  type Decision,
  type Policy,
  type RegistryObservation,
} from "../../../src/policy/index.ts";
import { D, decisionPolicy, E, policyOf } from "./fixtures.ts";

const direct = { namespace: "shop", dryRun: false };
const controlled = { ...direct, controlled: true };
const unavailable: RegistryObservation = {
  error: { code: "ERR_REGISTRY_TIMEOUT", message: "no answer within 10s", unavailable: true },
};

function looked(
  image: string,
  policy: Policy,
  observed: RegistryObservation,
  context: typeof direct & { controlled?: boolean },
): Decision {
  const first = decide(image, context, policy);
  if (first.action !== "lookup") throw new Error(`expected a lookup, got ${first.action}`);
  const second = decide(image, context, policy, observed);
  if (second.action === "lookup") throw new Error("asked twice");
  return second;
}

test("drift: deny denies a direct Pod, and admits a controller's Pod at the pin with a warning", (t) => {
  const policy = decisionPolicy();
  const denied = looked("busybox:1.36", policy, { digest: E }, direct);
  t.is(denied.action, "deny");
  t.deepEqual(denied.drift, { key: "docker.io/library/busybox:1.36", pinned: D, current: E });

  const atPin = looked("busybox:1.36", policy, { digest: E }, controlled);
  t.is(atPin.action, "mutate");
  t.is(atPin.reason, "drift");
  t.true(atPin.action === "mutate" && atPin.image === `busybox:1.36@${D}` && atPin.digest === D);
  t.false(atPin.wouldDeny);
  t.deepEqual(atPin.drift, denied.drift);
  t.is(
    atPin.warning,
    "busybox:1.36 moved to sha256:eeeeeeeeeeee, admitted at pin sha256:dddddddddddd (controllerPods: use-pin)",
  );
  t.is(
    atPin.message,
    `docker.io/library/busybox:1.36 moved to ${E}; admitted at its pin ${D} (created by a ` +
      `controller, controllerPods: use-pin). Review the new image with 'digestpin diff ` +
      `docker.io/library/busybox:1.36'; to accept it run digestpin approve ` +
      `docker.io/library/busybox:1.36 --digest ${E} --reason "…"`,
  );
});

test("the pin is admitted whatever mode says: the new digest never gets in through a controller", (t) => {
  for (const mode of ["enforce", "warn", "audit"]) {
    const decision = looked(
      "busybox:1.36",
      decisionPolicy(`mode: ${mode}\n`),
      { digest: E },
      controlled,
    );
    t.true(decision.action === "mutate" && decision.digest === D, mode);
  }
});

test("controllerPods: strict decides a controller's Pod like any other", (t) => {
  const policy = decisionPolicy("controllerPods: strict\n");
  const decision = looked("busybox:1.36", policy, { digest: E }, controlled);
  t.is(decision.action, "deny");
  t.is(decision.reason, "drift");
});

test("registryUnavailable: deny denies a direct Pod and admits a controller's at the pin", (t) => {
  const policy = decisionPolicy("registryUnavailable: deny\n");
  t.is(looked("busybox:1.36", policy, unavailable, direct).action, "deny");
  const atPin = looked("busybox:1.36", policy, unavailable, controlled);
  t.true(atPin.action === "mutate" && atPin.digest === D);
  t.regex(atPin.message, /\(created by a controller \(controllerPods: use-pin\)\)$/);
  const strict = decisionPolicy("registryUnavailable: deny\ncontrollerPods: strict\n");
  t.is(looked("busybox:1.36", strict, unavailable, controlled).action, "deny");
});

test("a controller's Pod gets no pin it does not have: unpinned tags are decided as ever", (t) => {
  const policy = policyOf("unpinned: deny\n");
  const first = decide("busybox:1.37", controlled, policy);
  t.true(first.action === "deny" && first.reason === "unpinned");
});

test("controllerPods is validated", (t) => {
  const error = t.throws(() => policyOf("controllerPods: always\n"));
  t.regex(error.message, /controllerPods: "always" is not one of use-pin, strict/);
});
