import assert from "node:assert/strict";
import test from "ava";
import fc from "fast-check";
import {
  decide,
  decideWith,
  policyFromText,
  type DecisionContext,
  type Policy,
  type RegistryObservation,
} from "../../src/policy/index.ts";
import { reportRow } from "../helpers/reliability.ts";

// decideWith answers through the process-wide decision memo (src/policy/decide/decision-memo.ts):
// over random streams of images decided in random contexts, under policy generations that come
// and go (an edit is a new Policy object, the same text read again too) and registry answers
// that move, every decision equals decide() asked afresh, step by step.

const digest = (c: string): string => `sha256:${c.repeat(64)}`;

const IMAGES = [
  "busybox:1.36",
  "docker.io/library/busybox:1.36",
  "ghcr.io/acme/app:v1",
  "ghcr.io/acme/app:v2",
  "quay.io/other/tool:1",
  `busybox@${digest("a")}`,
  `busybox:1.36@${digest("b")}`,
  "registry.example/exempt/x:1",
  "Not A Reference",
];

const OBSERVATIONS: RegistryObservation[] = [
  { digest: digest("a") },
  { digest: digest("b") },
  { digest: digest("c") },
  { digest: "sha256:short" },
  { error: { code: "ERR_REGISTRY_TIMEOUT", message: "timed out", unavailable: true } },
  { error: { code: "ERR_REGISTRY_NOT_FOUND", message: "no such tag", unavailable: false } },
];

interface Generation {
  readonly pin: string;
  readonly mode: "enforce" | "warn" | "audit";
  readonly drift: "deny" | "warn";
  readonly unpinned: "deny" | "allow" | "resolve" | "trust-on-first-use";
  readonly controllerPods: "use-pin" | "strict";
}

const policyText = (g: Generation): string => `apiVersion: digestpin.dev/v1alpha1
kind: Policy
mode: ${g.mode}
unpinned: ${g.unpinned}
drift: ${g.drift}
controllerPods: ${g.controllerPods}
registries:
  - host: docker.io
  - host: ghcr.io
  - host: registry.example
exempt:
  namespaces: [kube-system]
  images: ["registry.example/exempt/*"]
pins:
  busybox:1.36: ${g.pin}
  ghcr.io/acme/app:v1: ${digest("2")}
`;

const generation = fc.record({
  pin: fc.constantFrom(digest("a"), digest("b")),
  mode: fc.constantFrom("enforce", "warn", "audit"),
  drift: fc.constantFrom("deny", "warn"),
  unpinned: fc.constantFrom("deny", "allow", "resolve", "trust-on-first-use"),
  controllerPods: fc.constantFrom("use-pin", "strict"),
}) satisfies fc.Arbitrary<Generation>;

const step = fc.record({
  /** A new generation read (possibly of the same text: a new object all the same), or none. */
  edit: fc.oneof({ arbitrary: fc.constant(null), weight: 7 }, { arbitrary: generation, weight: 1 }),
  /** Back to an earlier generation's object (a review still holding it). */
  earlier: fc.nat(),
  /** An index into the run's images and observations (a few each: the same come again). */
  image: fc.nat(),
  namespace: fc.constantFrom("team", "shop", "kube-system"),
  dryRun: fc.boolean(),
  controlled: fc.constantFrom(undefined, true, false),
  observed: fc.nat(),
});

/** decide() the long way: first call, then again with the observation if it asks for one. */
function fresh(
  image: string,
  context: DecisionContext,
  policy: Policy,
  observed: RegistryObservation,
) {
  const first = decide(image, context, policy);
  return first.action === "lookup" ? decide(image, context, policy, observed) : first;
}

test("decideWith through the memo equals decide() afresh over random streams", async (t) => {
  let decisions = 0;
  let lookups = 0;
  await fc.assert(
    fc.asyncProperty(
      generation,
      fc.subarray(IMAGES, { minLength: 1, maxLength: 3 }),
      fc.subarray(OBSERVATIONS, { minLength: 1, maxLength: 2 }),
      fc.array(step, { minLength: 1, maxLength: 40 }),
      async (g, images, observations, steps) => {
        const generations = [policyFromText(policyText(g), "policy.yaml")];
        for (const s of steps) {
          if (s.edit !== null) generations.push(policyFromText(policyText(s.edit), "policy.yaml"));
          const policy =
            s.earlier % 4 === 0
              ? (generations[s.earlier % generations.length] ?? generations[0])
              : generations.at(-1);
          const image = images[s.image % images.length];
          const observed = observations[s.observed % observations.length];
          if (policy === undefined || image === undefined || observed === undefined)
            throw new Error("nothing to decide");
          const context: DecisionContext = {
            namespace: s.namespace,
            dryRun: s.dryRun,
            ...(s.controlled !== undefined && { controlled: s.controlled }),
          };
          let asked = 0;
          const memoized = await decideWith(image, context, policy, () => {
            asked++;
            return Promise.resolve(observed);
          });
          const expected = fresh(image, context, policy, observed);
          assert.deepStrictEqual(memoized, expected);
          assert.equal(JSON.stringify(memoized), JSON.stringify(expected));
          assert.equal(asked, decide(image, context, policy).action === "lookup" ? 1 : 0);
          decisions++;
          lookups += asked;
        }
      },
    ),
    { numRuns: 1000 },
  );
  t.true(lookups > decisions / 8, `${lookups} of ${decisions} decisions asked the registry`);
  reportRow(t, import.meta.url, {
    section: "inputs",
    subject: "decision memo: policy generations, contexts, moved tags, registry failures",
    tried: `1000 streams, ${decisions} decisions (fast-check)`,
    outcome:
      "every decision equal to decide() asked afresh; the registry asked exactly when decide() needs it",
  });
});
