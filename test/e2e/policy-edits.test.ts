import test from "ava";
import { SETTING_KEYS } from "../../src/policy/document/read-settings.ts";
import { podManifest, tryCreate, yamlDocuments } from "../harness/e2e-objects.ts";
import { POLICY_CONFIGMAP, sharedE2e, SYSTEM_NAMESPACE, type E2e } from "../harness/e2e-suite.ts";
import { waitFor } from "../harness/wait.ts";

// Scenario 4: edits of the policy ConfigMap. validate-policy.digestpin.dev rejects an invalid
// edit with the precise message; a valid edit takes effect; an invalid edit that slipped in
// while the API server could not reach digestpin (the policy webhook fails open by design)
// leaves the last good policy in force and an InvalidPolicy Event on the ConfigMap.
const e2e = sharedE2e(test, { name: "policy-edits" });

// Images in digest form on a registry that is never contacted: decided by the pins alone.
const REGISTRY = "registry.example.com";
const D14 = `sha256:${"14".repeat(32)}`;
const D15 = `sha256:${"15".repeat(32)}`;
const WEB_14 = `${REGISTRY}/shop/web:1.4@${D14}`;
const WEB_15 = `${REGISTRY}/shop/web:1.5@${D15}`;

/** The keys a Policy document may have, as the unknown-key message lists them. */
const POLICY_KEYS = ["apiVersion", "kind", ...SETTING_KEYS, "pins", "removed"].join(", ");

const HEADER = `apiVersion: digestpin.dev/v1alpha1
kind: Policy
mode: enforce
unpinned: deny
`;
const GOOD = `${HEADER}pins:
  ${REGISTRY}/shop/web:1.4: ${D14}
`;
const WITH_15 = `${GOOD}  ${REGISTRY}/shop/web:1.5: ${D15}
`;

/** The policy ConfigMap as a GitOps repository holds it. */
const configMapYaml = (policy: string): string =>
  yamlDocuments({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: POLICY_CONFIGMAP, namespace: SYSTEM_NAMESPACE },
    data: { "policy.yaml": policy },
  });

async function admits(env: E2e, namespace: string, image: string): Promise<boolean> {
  const created = await tryCreate(
    env.objects,
    podManifest("probe", namespace, { containers: { web: image } }),
    {
      dryRun: true,
    },
  );
  return created.allowed;
}

test.serial(
  "invalid edits are rejected with the precise message; a valid edit takes effect",
  async (t) => {
    const env = e2e();
    await env.setPolicy(GOOD);
    const namespace = await env.namespace(t, "shop");
    t.true(await admits(env, namespace, WEB_14));
    t.false(await admits(env, namespace, WEB_15));
    const sh = await env.shell(t);
    env.transcript.file("policy-edit-start-file", "digestpin-policy.yaml", configMapYaml(GOOD));

    const source = `configmap ${SYSTEM_NAMESPACE}/${POLICY_CONFIGMAP} policy.yaml`;
    // A 422 with a cause per issue: kubectl prints the causes, as for any invalid object.
    const rejected = (...issues: string[]) => {
      const causes = issues.map((issue) => `data[policy.yaml]: ${source}:${issue}`);
      return causes.length === 1
        ? `The configmaps "digestpin-policy" is invalid: ${causes[0]!}\n`
        : `The configmaps "digestpin-policy" is invalid: \n${causes.map((c) => `* ${c}\n`).join("")}`;
    };
    const edits = {
      "bad-yaml": {
        policy: `${GOOD}   ${REGISTRY}/shop/web:1.5: ${D15}\n`,
        output: rejected(
          "6:38: YAML syntax: nested mappings are not allowed in compact mappings",
          "6:38: YAML syntax: a key must be on one line (a value without its `key:`, or a missing `:`?)",
        ),
      },
      "bad-digest": {
        policy: `${GOOD}  ${REGISTRY}/shop/web:1.5: sha256:15\n`,
        output: rejected(
          `7:38: pins["${REGISTRY}/shop/web:1.5"]: "sha256:15" is not a sha256 digest (64 lowercase hex)`,
        ),
      },
      "unknown-key": {
        policy:
          `${GOOD}  ${REGISTRY}/shop/web:1.5:\n    digest: ${D15}\n    pinedBy: alice\n`.replace(
            "mode: enforce",
            "mode: enforce\nunpined: allow",
          ),
        output: rejected(
          `4:1: unpined: unknown key "unpined" (did you mean "unpinned"?); expected one of ${POLICY_KEYS}`,
          `10:5: pins["${REGISTRY}/shop/web:1.5"].pinedBy: unknown key "pinedBy" (did you mean "pinnedBy"?); expected one of digest, pinnedAt, pinnedBy, reason, platforms, history`,
        ),
      },
    };
    for (const [name, edit] of Object.entries(edits)) {
      await sh.write("digestpin-policy.yaml", configMapYaml(edit.policy));
      const replaced = await sh.kubectl(["replace", "-f", "digestpin-policy.yaml"]);
      t.deepEqual([replaced.exitCode, replaced.output], [1, edit.output], name);
      env.transcript.file(
        `policy-edit-${name}-file`,
        "digestpin-policy.yaml",
        configMapYaml(edit.policy),
      );
      env.transcript.console(`policy-edit-${name}`, replaced);
    }
    t.is(await env.policyText(), GOOD);
    // kubectl apply: the same causes.
    await sh.write("digestpin-policy.yaml", configMapYaml(edits["bad-digest"].policy));
    const applied = await sh.kubectl(["apply", "-f", "digestpin-policy.yaml"]);
    t.is(applied.exitCode, 1);
    t.true(
      applied.output.endsWith(edits["bad-digest"].output.replace(/^.*is invalid: /, "")),
      applied.output,
    );

    // kubectl edit: the same message, at the top of the file it reopens. The "editor" breaks the
    // digest, then (reopened) keeps a copy of what it was shown and saves it unchanged.
    await sh.write(
      "editor.sh",
      `#!/bin/sh\nif [ -e edited ]; then cp "$1" reopened.yaml; else touch edited; sed -i s/${D14}/sha256:14/ "$1"; fi\n`,
    );
    const edited = await sh.kubectl(
      ["edit", "configmap", POLICY_CONFIGMAP, "-n", SYSTEM_NAMESPACE],
      {
        env: { KUBE_EDITOR: "sh editor.sh" },
      },
    );
    t.is(edited.exitCode, 1);
    t.regex(
      edited.output,
      /^error: configmaps "digestpin-policy" is invalid\nA copy of your changes has been stored to "[^"]+"\nerror: Edit cancelled, no valid changes were saved.\n$/,
    );
    const header = (await sh.read("reopened.yaml"))
      .split("\n")
      .filter((line) => line.startsWith("#"));
    t.deepEqual(header.slice(4), [
      `# configmaps "digestpin-policy" was not valid:`,
      `# * data[policy.yaml]: ${source}:6:38: pins["${REGISTRY}/shop/web:1.4"]: "sha256:14" is not a sha256 digest (64 lowercase hex)`,
      "#",
    ]);
    t.is(await env.policyText(), GOOD);
    env.transcript.console("policy-edit-kubectl-edit", edited);
    env.transcript.file(
      "policy-edit-kubectl-edit-file",
      "(the file kubectl edit reopens)",
      `${header.join("\n")}\n…\n`,
    );

    await sh.write("digestpin-policy.yaml", configMapYaml(WITH_15));
    const valid = await sh.kubectl(["replace", "-f", "digestpin-policy.yaml"]);
    t.deepEqual([valid.exitCode, valid.output], [0, "configmap/digestpin-policy replaced\n"]);
    const started = performance.now();
    await waitFor("the valid edit to take effect", async () =>
      (await admits(env, namespace, WEB_15)) ? true : undefined,
    );
    t.log(`the valid edit took effect after ${Math.round(performance.now() - started)} ms`);
    env.transcript.file("policy-edit-valid-file", "digestpin-policy.yaml", configMapYaml(WITH_15));
    env.transcript.console("policy-edit-valid", valid);
  },
);

test.serial(
  "an invalid edit that slipped in while digestpin was unreachable leaves the last good policy in force, with an InvalidPolicy Event",
  async (t) => {
    const env = e2e();
    await env.setPolicy(GOOD);
    const namespace = await env.namespace(t, "shop-unreachable");
    const sh = await env.shell(t);

    // The API server cannot get an answer (the process hangs): after timeoutSeconds the edit
    // goes through, since validate-policy.digestpin.dev fails open.
    env.webhook.freeze();
    let applied;
    try {
      await sh.write(
        "digestpin-policy.yaml",
        configMapYaml(`${GOOD}  ${REGISTRY}/shop/web:1.5: sha256:15\n`),
      );
      applied = await sh.kubectl(["replace", "-f", "digestpin-policy.yaml"]);
    } finally {
      env.webhook.thaw();
    }
    t.deepEqual([applied.exitCode, applied.output], [0, "configmap/digestpin-policy replaced\n"]);

    const events = await waitFor("the InvalidPolicy Event", async () => {
      const run = await sh.kubectl([
        "get",
        "events",
        "-n",
        SYSTEM_NAMESPACE,
        "--field-selector",
        "reason=InvalidPolicy",
        "-o",
        "custom-columns=TYPE:.type,REASON:.reason,OBJECT:.involvedObject.name,MESSAGE:.message",
      ]);
      return run.output.includes("InvalidPolicy") ? run : undefined;
    });
    t.true(
      events.output.includes(
        "invalid policy change rejected; the policy in force is kept (1 issue):",
      ),
      events.output,
    );
    t.is(await env.webhook.metric("digestpin_policy_valid"), 0);
    // The last good policy decides: 1.4 admitted, 1.5 (the rejected pin) not.
    t.true(await admits(env, namespace, WEB_14));
    t.false(await admits(env, namespace, WEB_15));
    env.transcript.console("policy-edit-slipped", applied, events);

    await sh.write("digestpin-policy.yaml", configMapYaml(WITH_15));
    const fixed = await sh.kubectl(["replace", "-f", "digestpin-policy.yaml"]);
    t.is(fixed.exitCode, 0, fixed.output);
    await waitFor("the fix to take effect", async () =>
      (await admits(env, namespace, WEB_15)) ? true : undefined,
    );
    t.is(await env.webhook.metric("digestpin_policy_valid"), 1);
  },
);

test.serial(
  "a restart with an invalid policy in the ConfigMap: not ready, Pods denied (never decided without a policy), an InvalidPolicy Event; a fix brings it back",
  async (t) => {
    const env = e2e();
    await env.setPolicy(GOOD);
    const namespace = await env.namespace(t, "shop-restart");
    const sh = await env.shell(t);

    await env.webhook.stop();
    await sh.write(
      "digestpin-policy.yaml",
      configMapYaml(`${GOOD}  ${REGISTRY}/shop/web:1.5: sha256:15\n`),
    );
    const slipped = await sh.kubectl(["replace", "-f", "digestpin-policy.yaml"]);
    t.deepEqual([slipped.exitCode, slipped.output], [0, "configmap/digestpin-policy replaced\n"]);

    await env.webhook.start({ ready: false });
    const readyz = await fetch(`${env.webhook.metricsUrl}/readyz`);
    t.is(readyz.status, 503);
    t.deepEqual(await readyz.json(), {
      status:
        `no valid policy loaded: configmap digestpin-system/digestpin-policy:7:38: ` +
        `pins["${REGISTRY}/shop/web:1.5"]: "sha256:15" is not a sha256 digest (64 lowercase hex)`,
    });
    await sh.write(
      "web.yaml",
      yamlDocuments(podManifest("web", undefined, { containers: { web: WEB_14 } })),
    );
    const denied = await sh.kubectl(["apply", "-n", namespace, "-f", "web.yaml"]);
    t.deepEqual(
      [denied.exitCode, denied.output],
      [
        1,
        `Error from server (ServiceUnavailable): error when creating "web.yaml": admission webhook "mutate.digestpin.dev" denied the request: digestpin has no valid policy loaded yet, so it cannot admit images\n`,
      ],
    );
    const events = await waitFor("the InvalidPolicy Event", async () => {
      const list = await env.core.listNamespacedEvent({
        namespace: SYSTEM_NAMESPACE,
        fieldSelector: "reason=InvalidPolicy",
      });
      return list.items.find((e) => e.message?.includes("sha256:15"));
    });
    t.is(events.involvedObject.name, POLICY_CONFIGMAP);

    await sh.write("digestpin-policy.yaml", configMapYaml(WITH_15));
    const fixed = await sh.kubectl(["replace", "-f", "digestpin-policy.yaml"]);
    t.is(fixed.exitCode, 0, fixed.output);
    await waitFor("readiness", async () =>
      (await fetch(`${env.webhook.metricsUrl}/readyz`)).ok ? true : undefined,
    );
    const admitted = await sh.kubectl(["apply", "-n", namespace, "-f", "web.yaml"]);
    t.deepEqual([admitted.exitCode, admitted.output], [0, "pod/web created\n"]);
    t.true(await admits(env, namespace, WEB_15));
    env.transcript.console("policy-edit-restart", slipped, denied, fixed, admitted);
  },
);
