import { parseArgs } from "node:util";
import { approvePin, type Approval } from "../policy/pin-approve.ts";
import { editPolicy, type EditResult, type PolicyView } from "../policy/policy-store.ts";
import type { PinRecord } from "../policy/schema.ts";
import { rfc3339 } from "../policy/time.ts";
import { isDigest, pinKeyOf, tryParseReference } from "../reference/index.ts";
import { EXIT_USAGE, type CliIO, type Command } from "./command.ts";
import { lookupOptions, lookupUsage, openRegistrySession } from "./pin-registry.ts";
import {
  editorOf,
  openPolicyStore,
  policyTargetOptions,
  policyTargetUsage,
  reportPolicyError,
} from "./policy-target.ts";

const usage = `Usage: digestpin approve REF --reason TEXT [--digest DIGEST] [options]

Accepts a moved tag: pins REF's tag to DIGEST (default: the digest its registry serves now,
which must exist there), with who, when and why. The digest it was pinned to goes first into
the pin's history, with replacedAt, replacedBy and replaceReason. The pin is changed where it
is written (the policy, or a pins file or ConfigMap), keeping the rest of that YAML as it is.
Review the change first with 'digestpin diff REF'.

Options:
  --reason TEXT               Why the new digest is accepted (required)
  --digest DIGEST             The digest to accept (default: what the registry serves now)
  --by NAME                   Who (default $USER@hostname)
  --dry-run                   Show what would change; change nothing
${policyTargetUsage}${lookupUsage}  -h, --help                  Show this help.

Exit status: 0 when the pin is (or already was) DIGEST, 1 on a failure, 2 on a usage error.
`;

/** `digestpin approve REF --reason TEXT`: accept a moved tag; the old digest into history. */
export const approveCommand: Command = {
  name: "approve",
  summary: "Accept a moved tag: pin its new digest, keeping the old one in history",
  usage,
  run,
};

type Outcome =
  | { readonly action: "approved"; readonly old: PinRecord; readonly documents: string[] }
  | { readonly action: "unchanged"; readonly old: PinRecord };

async function run(args: readonly string[], io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        reason: { type: "string" },
        digest: { type: "string" },
        by: { type: "string" },
        "dry-run": { type: "boolean" },
        help: { type: "boolean", short: "h" },
        ...policyTargetOptions,
        ...lookupOptions,
      },
    });
  } catch (error) {
    io.stderr(`digestpin approve: ${(error as Error).message}\n\n${usage}`);
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    io.stdout(usage);
    return 0;
  }
  const fail = (message: string): number => {
    io.stderr(`digestpin approve: ${message}\n\n${usage}`);
    return EXIT_USAGE;
  };
  const [input, ...extra] = positionals;
  if (input === undefined || extra.length > 0) return fail("give exactly one image reference");
  if (values.reason === undefined || values.reason.trim() === "")
    return fail("--reason is required");
  const reference = tryParseReference(input);
  if (!reference.ok) return fail(reference.error.message);
  const key = pinKeyOf(reference.reference);
  if (key === null || reference.reference.digest !== null)
    return fail(`${input}: name a tag (name:tag)`);
  if (values.digest !== undefined && !isDigest(values.digest))
    return fail(`--digest ${values.digest} is not a digest`);
  const store = openPolicyStore(values, io.env);
  if (typeof store === "string") return fail(store);
  const session = await openRegistrySession(values, io.env);
  if (typeof session === "string") return fail(session);
  try {
    const target = { ...reference.reference, digest: values.digest ?? null };
    const answer = await session.resolve(target, true);
    const platforms = Object.fromEntries(
      (answer.platforms ?? []).map((p) => [p.platform, p.digest]),
    );
    const approval: Approval = {
      digest: answer.digest,
      pinnedAt: rfc3339(new Date()),
      pinnedBy: editorOf(values.by, io.env),
      reason: values.reason,
      ...(Object.keys(platforms).length > 0 && { platforms }),
    };
    const dryRun = values["dry-run"] === true;
    const outcome = await editPolicy(store, approveEdit(key, approval), { dryRun });
    if (outcome.action === "unchanged") {
      io.stdout(`unchanged  ${key} is pinned to ${approval.digest} already\n`);
      return 0;
    }
    io.stdout(
      `${dryRun ? "would approve" : "approved"}  ${key}: ${outcome.old.digest} → ${approval.digest}` +
        ` (${outcome.documents.join(", ")}); the old digest is first in its history\n`,
    );
    return 0;
  } catch (error) {
    return reportPolicyError("approve", error, io);
  } finally {
    await session.close();
  }
}

function approveEdit(key: string, approval: Approval) {
  return (view: PolicyView): EditResult<Outcome> => {
    const old = view.policy.pins.get(key);
    if (old === undefined) {
      throw new Error(`${key} is not pinned; pin it with 'digestpin pin ${key}'`);
    }
    if (old.digest === approval.digest) {
      return { changes: new Map(), result: { action: "unchanged", old } };
    }
    const holders = view.holders(key);
    const changes = new Map(holders.map((d) => [d.name, approvePin(d.text, key, approval)]));
    const documents = holders.map((d) => d.name);
    return { changes, result: { action: "approved", old, documents } };
  };
}
