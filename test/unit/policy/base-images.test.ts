import { setTimeout as sleep } from "node:timers/promises";
import test from "ava";
import { applyImageFacts, type ImageFactsSource } from "../../../src/admission/facts.ts";
import { decideBase } from "../../../src/policy/decide/decide-base.ts";
import { decideWith, type Decision, type Policy } from "../../../src/policy/index.ts";
import type { BaseDeclaration } from "../../../src/reference/index.ts";
import { RegistryError } from "../../../src/registry/errors.ts";
import type { ManifestTree } from "../../../src/registry/image-tree.ts";
import { digest, HEADER, policyOf } from "./fixtures.ts";
import { checkPolicyDocument } from "../../../src/policy/document/document.ts";

// baseImages: require-pinned, and the layer note of drift denials.

const [APP, BASE, BASE2, ARM, OTHER] = ["a", "b", "c", "d", "e"].map(digest) as [
  string,
  string,
  string,
  string,
  string,
];
const context = { namespace: "team", dryRun: false };

function policy(settings = "baseImages: require-pinned\n", pins = ""): Policy {
  return policyOf(`${settings}pins:
  ghcr.io/acme/app:1: ${APP}
  ghcr.io/acme/base:1:
    digest: ${BASE}
    pinnedAt: "2026-11-01T10:00:00Z"
    pinnedBy: alice
    platforms:
      linux/arm64: ${ARM}
  ghcr.io/acme/base:stable: ${OTHER}
${pins}`);
}

const base = (name: string, d: string | undefined): BaseDeclaration => ({
  name,
  digest: d,
  source: "manifest annotation",
  platform: undefined,
});

async function pinnedDecision(p: Policy): Promise<Decision> {
  return decideWith("ghcr.io/acme/app:1", context, p, () => Promise.resolve({ digest: APP }));
}

test("baseImages is read: off by default, require-pinned, anything else an error", (t) => {
  t.is(policyOf("").settings.baseImages, undefined);
  t.is(policyOf("baseImages: require-pinned\n").settings.baseImages, "require-pinned");
  t.is(policyOf("baseImages: off\n").settings.baseImages, "off");
  const result = checkPolicyDocument(`${HEADER}baseImages: strict\n`, "policy.yaml");
  t.false(result.ok);
  t.regex(JSON.stringify(result.ok ? [] : result.issues), /baseImages.*strict/);
});

test("a base pinned by its tag (index or platform digest) or by another tag passes", async (t) => {
  const p = policy();
  const decision = await pinnedDecision(p);
  for (const declared of [
    base("ghcr.io/acme/base:1", BASE),
    base("ghcr.io/acme/base:1", ARM),
    base("ghcr.io/acme/base:9", OTHER),
  ]) {
    t.is(decideBase(decision, APP, p, { bases: [declared] }), decision, declared.digest);
  }
  t.is(decideBase(decision, APP, p, { bases: [] }), decision, "no base declared: nothing to check");
});

test("a drifted base denies with the chain, naming the pin", async (t) => {
  const p = policy();
  const denied = decideBase(await pinnedDecision(p), APP, p, {
    bases: [base("ghcr.io/acme/base:1", BASE2)],
  });
  t.is(denied.action, "deny");
  t.is(denied.reason, "base-drifted");
  t.is(
    denied.message,
    `image "ghcr.io/acme/app:1": its base image drifted (baseImages: require-pinned). Chain: ` +
      `ghcr.io/acme/app:1@${APP} ← ghcr.io/acme/base:1@${BASE2} (manifest annotation): drifted: ` +
      `ghcr.io/acme/base:1 is pinned to ${BASE.slice(0, 19)}… (pinned at 2026-11-01T10:00:00Z by alice). ` +
      `The image was built on a base that differs from the reviewed pin. Review the base with ` +
      `'digestpin diff ghcr.io/acme/base:1' and approve it, or rebuild the image on the pinned base.`,
  );
});

test("an unpinned base, a base without a digest and an invalid name deny as unpinned", async (t) => {
  const p = policy();
  const decision = await pinnedDecision(p);
  for (const [declared, text] of [
    [
      base("docker.io/library/alpine:3.20", BASE2),
      /not pinned: no pin for docker\.io\/library\/alpine:3\.20/,
    ],
    [base("ghcr.io/acme/base:1", undefined), /no base digest declared/],
    [base("not a reference", BASE), /not a valid image reference/],
  ] as const) {
    const denied = decideBase(decision, APP, p, { bases: [declared] });
    t.is(denied.reason, "base-unpinned");
    t.regex(denied.message, text);
  }
});

test("warn and audit keep the rewrite to the digest and say what would be denied", async (t) => {
  for (const mode of ["warn", "audit"] as const) {
    const p = policy(`baseImages: require-pinned\nmode: ${mode}\n`);
    const decision = decideBase(await pinnedDecision(p), APP, p, {
      bases: [base("ghcr.io/acme/base:1", BASE2)],
    });
    t.is(decision.action, "mutate", mode);
    t.true(decision.wouldDeny);
    if (mode === "warn")
      t.regex(
        decision.warning ?? "",
        /^would deny ghcr\.io\/acme\/app:1: base .* drifted \(mode: warn\)$/,
      );
    else t.regex(decision.audit ?? "", /its base image drifted/);
  }
});

test("bases that cannot be read: registryUnavailable decides; an error answer denies", async (t) => {
  const timeout = { code: "ERR_REGISTRY_TIMEOUT", message: "slow", unavailable: true };
  const usePin = policy();
  const kept = decideBase(await pinnedDecision(usePin), APP, usePin, { error: timeout });
  t.is(kept.action, "mutate");
  t.regex(kept.warning ?? "", /base images of .* not checked: registry unavailable/);
  const strict = policy("baseImages: require-pinned\nregistryUnavailable: deny\n");
  const denied = decideBase(await pinnedDecision(strict), APP, strict, { error: timeout });
  t.deepEqual([denied.action, denied.reason], ["deny", "registry-unavailable"]);
  const missing = { code: "ERR_REGISTRY_NOT_FOUND", message: "gone", unavailable: false };
  const error = decideBase(await pinnedDecision(usePin), APP, usePin, { error: missing });
  t.deepEqual([error.action, error.reason], ["deny", "registry-error"]);
});

/** Facts that count what they are asked and answer from maps (or slowly). */
function facts(
  bases: Record<string, BaseDeclaration[]>,
  trees: Record<string, ManifestTree> = {},
  delayMs = 0,
) {
  const asked: string[] = [];
  const source: ImageFactsSource = {
    bases: async (_name, d) => {
      asked.push(`bases ${d.slice(7, 8)}`);
      await sleep(delayMs);
      const found = bases[d];
      if (found === undefined) throw new RegistryError("ERR_REGISTRY_NOT_FOUND", "r", "nope");
      return found;
    },
    tree: async (_name, d) => {
      asked.push(`tree ${d.slice(7, 8)}`);
      await sleep(delayMs);
      const found = trees[d];
      if (found === undefined) throw new RegistryError("ERR_REGISTRY_NOT_FOUND", "r", "nope");
      return found;
    },
  };
  return { source, asked };
}

const factsContext = (observed: { digest: string } | undefined, deadline = Date.now() + 5000) => ({
  deadline,
  keychain: () => Promise.resolve(() => undefined),
  now: Date.now,
  observed,
});

test("the hot path reads nothing: setting off and no drift, or an exempt or denied image", async (t) => {
  const { source, asked } = facts({});
  const off = policy("");
  const decision = await pinnedDecision(off);
  t.is(await applyImageFacts(decision, off, source, factsContext({ digest: APP })), decision);
  const on = policy();
  const unpinned = await decideWith("ghcr.io/acme/none:1", context, on, () =>
    Promise.resolve({ digest: APP }),
  );
  t.is(await applyImageFacts(unpinned, on, source, factsContext({ digest: APP })), unpinned);
  t.deepEqual(asked, []);
});

const tree = (
  d: string,
  layers: string[],
  annotations: Record<string, string> = {},
): ManifestTree => ({
  digest: d,
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  index: false,
  annotations: {},
  images: [
    {
      platform: undefined,
      digest: d,
      configDigest: undefined,
      annotations,
      layers: layers.map((l) => ({ digest: digest(l), size: 1 })),
    },
  ],
});

test("a drift denial gets a layer note: base layers changed, using the declared base", async (t) => {
  const p = policy("");
  const NEW = digest("f");
  const drift = await decideWith("ghcr.io/acme/app:1", context, p, () =>
    Promise.resolve({ digest: NEW }),
  );
  t.is(drift.reason, "drift");
  const { source } = facts(
    {},
    {
      [APP]: tree(APP, ["1", "2", "9"], {
        "org.opencontainers.image.base.name": "ghcr.io/acme/base:1",
        "org.opencontainers.image.base.digest": BASE,
      }),
      [NEW]: tree(NEW, ["1", "3", "9"]),
      [BASE]: tree(BASE, ["1", "2"]),
    },
  );
  const noted = await applyImageFacts(drift, p, source, factsContext({ digest: NEW }));
  t.is(noted.action, "deny");
  t.true(
    noted.message.endsWith(
      " Layers: base layers changed: the current image shares only the first 1 of the pinned image's 3 layers (its declared base has 2 layers).",
    ),
    noted.message,
  );
});

test("the layer note never delays a denial beyond its budget", async (t) => {
  const p = policy("");
  const NEW = digest("f");
  const drift = await decideWith("ghcr.io/acme/app:1", context, p, () =>
    Promise.resolve({ digest: NEW }),
  );
  const { source } = facts({}, { [APP]: tree(APP, ["1"]), [NEW]: tree(NEW, ["2"]) }, 2000);
  const started = Date.now();
  const late = await applyImageFacts(drift, p, source, {
    ...factsContext({ digest: NEW }),
    noteBudgetMs: 100,
  });
  t.true(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
  t.is(late, drift, "sent as it was");
  const nearDeadline = await applyImageFacts(
    drift,
    p,
    source,
    factsContext({ digest: NEW }, Date.now() - 1),
  );
  t.is(nearDeadline, drift, "no budget left: no note");
});

test("require-pinned asks for the bases of the admitted digest", async (t) => {
  const p = policy();
  const { source, asked } = facts({ [APP]: [base("ghcr.io/acme/base:1", BASE2)] });
  const decision = await applyImageFacts(
    await pinnedDecision(p),
    p,
    source,
    factsContext({ digest: APP }),
  );
  t.is(decision.reason, "base-drifted");
  t.deepEqual(asked, ["bases a"]);
});
