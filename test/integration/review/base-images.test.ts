import test, { type ExecutionContext } from "ava";
import { handleReview, type AdmissionDeps } from "../../../src/admission/handler.ts";
import type { ImageFactsSource } from "../../../src/admission/facts.ts";
import { policyFromText, type Policy } from "../../../src/policy/index.ts";
import { anonymous } from "../../../src/registry/credentials.ts";
import { ImageFacts } from "../../../src/registry/image-facts.ts";
import { pushLayered } from "../../harness/layered-images.ts";
import type { LayerEntry } from "../../harness/layer-tar.ts";
import { resolverFor } from "../../helpers/resolver-for.ts";
import { pod, podSpec, request } from "../../unit/admission/fixtures.ts";
import { digestpin, policyFile, reviewTestbed, type ReviewTestbed } from "./testbed.ts";

// Base-image chains at admission: the handler in-process, a real Resolver and ImageFacts
// against the testbed registry, images built by crane with base annotations.

const testbed = reviewTestbed(test);

const baseV1: LayerEntry[] = [{ path: "etc/os-release", content: "base 1\n" }];
const baseV2: LayerEntry[] = [
  { path: "etc/os-release", content: "base 1\n" },
  { path: "usr/lib/libevil.so", content: "evil" },
];
const appLayer: LayerEntry[] = [{ path: "app/server", content: "server", mode: 0o755 }];

function policyText(bed: ReviewTestbed, pins: Record<string, string>, settings = ""): string {
  const ca = bed.registry.caPem.trimEnd().replace(/\n/g, "\n      ");
  const entries = Object.entries(pins).map(([key, digest]) => `  ${key}: ${digest}\n`);
  return `apiVersion: digestpin.dev/v1alpha1
kind: Policy
${settings}registries:
  - host: ${bed.registry.host}
    allowPrivateAddresses: true
    ca: |
      ${ca}
pins:
${entries.join("")}`;
}

/** The handler's dependencies; `asked` collects what the image facts were asked. */
function deps(
  t: ExecutionContext,
  bed: ReviewTestbed,
  policy: Policy,
  asked: string[] = [],
): AdmissionDeps {
  const real = new ImageFacts({ registries: policy.settings.registries ?? undefined });
  t.teardown(() => real.close());
  const facts: ImageFactsSource = {
    bases: (name, digest, options) => {
      asked.push(`bases ${digest}`);
      return real.bases(name, digest, options);
    },
    tree: (name, digest, options) => {
      asked.push(`tree ${digest}`);
      return real.tree(name, digest, options);
    },
  };
  const resolver = resolverFor(t, bed.registry);
  return {
    policy: () => policy,
    resolve: (reference, options) => resolver.resolve(reference, options),
    keychainFor: () => Promise.resolve(anonymous),
    recordPin: (_key, record) => Promise.resolve(record.digest),
    mutateTemplates: false,
    budgetMs: 5000,
    now: Date.now,
    facts,
  };
}

async function review(t: ExecutionContext, bed: ReviewTestbed, policy: Policy, image: string) {
  const asked: string[] = [];
  const outcome = await handleReview(
    "mutate",
    request("Pod", pod(podSpec({ app: image }))),
    deps(t, bed, policy, asked),
  );
  return { response: outcome.response, decision: outcome.judged[0]?.decision, asked };
}

/** base:1 pinned, app:1 built on it (annotated) and pinned; then base:1 is re-pushed. */
async function builtOnBase(t: ExecutionContext, name: string) {
  const bed = testbed();
  const base = bed.registry.ref(`${name}/base:1`);
  const app = bed.registry.ref(`${name}/app:1`);
  const base1 = await pushLayered(t, bed.crane, base, { layers: [baseV1] });
  const app1 = await pushLayered(t, bed.crane, app, {
    base,
    baseAnnotations: true,
    layers: [appLayer],
  });
  return { bed, base, app, base1, app1 };
}

test("an image built on its pinned base is admitted; on a re-pushed base it is denied with the chain", async (t) => {
  const { bed, base, app, base1, app1 } = await builtOnBase(t, "drifted");
  const settings = "baseImages: require-pinned\n";
  const ok = await review(
    t,
    bed,
    policyFromText(policyText(bed, { [base]: base1, [app]: app1 }, settings), "p"),
    app,
  );
  t.true(ok.response.allowed, ok.decision?.message);
  t.is(ok.decision?.reason, "pinned");
  t.deepEqual(ok.asked, [`bases ${app1}`]);

  // The attack on the base: base:1 re-pushed, the app rebuilt FROM it and (carelessly) pinned.
  const base2 = await pushLayered(t, bed.crane, base, { layers: [baseV2] });
  const app2 = await pushLayered(t, bed.crane, app, {
    base,
    baseAnnotations: true,
    layers: [appLayer],
  });
  const policy = policyFromText(policyText(bed, { [base]: base1, [app]: app2 }, settings), "p");
  const denied = await review(t, bed, policy, app);
  t.false(denied.response.allowed);
  t.is(denied.decision?.reason, "base-drifted");
  const message = denied.response.status?.message ?? "";
  t.true(
    message.includes(
      `Chain: ${app}@${app2} ← ${base}@${base2} (manifest annotation): drifted: ${base} is pinned to ${base1.slice(0, 19)}…`,
    ),
    message,
  );
  t.regex(message, /digestpin diff .*drifted\/base:1/);

  // Off (the default), the same image is admitted: the base is not looked at.
  const off = await review(
    t,
    bed,
    policyFromText(policyText(bed, { [base]: base1, [app]: app2 }), "p"),
    app,
  );
  t.true(off.response.allowed);
  t.deepEqual(off.asked, [], "the hot path reads no manifest beyond the tag's");
});

test("a declared base that is not pinned is denied; a base in the config labels counts too", async (t) => {
  const bed = testbed();
  const other = bed.registry.ref("labels/other:3");
  const app = bed.registry.ref("labels/app:1");
  const otherDigest = await pushLayered(t, bed.crane, other, { layers: [baseV1] });
  const appDigest = await pushLayered(t, bed.crane, app, {
    base: other,
    layers: [appLayer],
    labels: {
      "org.opencontainers.image.base.name": other,
      "org.opencontainers.image.base.digest": otherDigest,
    },
  });
  const settings = "baseImages: require-pinned\n";
  const denied = await review(
    t,
    bed,
    policyFromText(policyText(bed, { [app]: appDigest }, settings), "p"),
    app,
  );
  t.false(denied.response.allowed);
  t.is(denied.decision?.reason, "base-unpinned");
  t.regex(
    denied.response.status?.message ?? "",
    new RegExp(
      `\\(config label, linux\\/amd64\\): not pinned: no pin for ${other.replace(/[.]/g, "\\.")}\\. Pin the base`,
    ),
  );
  // Pinned by digest form too: app@digest is admitted once the base is pinned.
  const pinned = policyFromText(
    policyText(bed, { [app]: appDigest, [other]: otherDigest }, settings),
    "p",
  );
  t.true((await review(t, bed, pinned, `${app}@${appDigest}`)).response.allowed);
  // mode: warn admits (still rewritten to the digest) and warns.
  const warn = policyFromText(
    policyText(bed, { [app]: appDigest }, `${settings}mode: warn\n`),
    "p",
  );
  const warned = await review(t, bed, warn, app);
  t.true(warned.response.allowed);
  t.is(warned.response.patchType, "JSONPatch");
  t.regex(
    warned.response.warnings?.join("\n") ?? "",
    /would deny .*: base .* is not pinned \(mode: warn\)/,
  );
});

test("a drift denial says base layers changed when the new image is built on other base layers", async (t) => {
  const { bed, base, app, base1, app1 } = await builtOnBase(t, "layers");
  const policy = policyFromText(policyText(bed, { [base]: base1, [app]: app1 }), "p");
  await pushLayered(t, bed.crane, base, { layers: [baseV2] });
  await pushLayered(t, bed.crane, app, { base, baseAnnotations: true, layers: [appLayer] });
  const denied = await review(t, bed, policy, app);
  t.false(denied.response.allowed);
  t.is(denied.decision?.reason, "drift");
  t.regex(
    denied.response.status?.message ?? "",
    /the tag moved\..* Layers: base layers changed: the current image shares only the first 0 of the pinned image's 2 layers \(its declared base has 1 layer\)\.$/,
  );

  // The seed attack instead: one layer on top of the pinned image.
  const harmless = bed.registry.ref("layers/harmless:1.0");
  const pinned = await pushLayered(t, bed.crane, harmless, { layers: [baseV1] });
  await pushLayered(t, bed.crane, harmless, {
    base: `${harmless}@${pinned}`,
    layers: [[{ path: "harmful", content: "" }]],
  });
  const attack = await review(
    t,
    bed,
    policyFromText(policyText(bed, { [harmless]: pinned }), "p"),
    harmless,
  );
  t.regex(
    attack.response.status?.message ?? "",
    /Layers: the pinned image's 1 layer with 1 layer added on top\.$/,
  );
});

test("digestpin diff and check show the chain", async (t) => {
  const { bed, base, app, base1, app1 } = await builtOnBase(t, "cli");
  const base2 = await pushLayered(t, bed.crane, base, { layers: [baseV2] });
  const app2 = await pushLayered(t, bed.crane, app, {
    base,
    baseAnnotations: true,
    layers: [appLayer],
  });
  const policy = await policyFile(bed, { [base]: base1, [app]: app1 });
  const diff = await digestpin(bed, policy, ["diff", app]);
  t.is(diff.status, 1, diff.stderr);
  t.true(
    diff.stdout.includes(
      `base images\n  pinned   ← ${base}@${base1} (manifest annotation): pinned\n  current  ← ${base}@${base2} (manifest annotation): drifted: ${base} is pinned to ${base1.slice(0, 19)}…`,
    ),
    diff.stdout,
  );
  t.regex(
    diff.stdout,
    /\n {2}layering {2}base layers changed: the current image shares only the first 0 of the pinned image's 2 layers \(its declared base has 1 layer\)\n/,
  );

  const strict = await policyFile(
    bed,
    { [base]: base1, [app]: app2 },
    "baseImages: require-pinned\n",
  );
  const manifests = `${bed.dir}/pod.yaml`;
  const { writeFile } = await import("node:fs/promises");
  await writeFile(
    manifests,
    `apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  containers:\n    - name: app\n      image: ${app}\n`,
  );
  const check = await digestpin(bed, strict, ["check", "-f", manifests]);
  t.is(check.status, 1, check.stderr);
  t.regex(check.stdout, /deny {6}base-drifted/);
  t.true(
    check.stdout.includes(
      `Chain: ${app}@${app2} ← ${base}@${base2} (manifest annotation): drifted`,
    ),
    check.stdout,
  );

  // Without the setting, --bases shows the chain of what is admitted.
  const relaxed = await policyFile(bed, { [base]: base1, [app]: app2 });
  const bases = await digestpin(bed, relaxed, ["check", "-f", manifests, "--bases"]);
  t.is(bases.status, 0, bases.stderr);
  t.true(
    bases.stdout.includes(
      `\nbase images\n  ${app.replace(/:1$/, "")}@${app2}\n    ← ${base}@${base2} (manifest annotation): drifted: ${base} is pinned to ${base1.slice(0, 19)}…`,
    ),
    bases.stdout,
  );
});
