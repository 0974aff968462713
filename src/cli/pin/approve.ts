import { DigestpinError } from "../../errors.ts";
import {
  approvePin,
  editPolicy,
  rfc3339,
  viewOf,
  type Approval,
  type EditResult,
  type PolicyView,
  type StoredDocument,
} from "../../pins/index.ts";
import { REVIEW_PATHS, type PinRecord, type PinReview } from "../../policy/index.ts";
import { isDigest, pinKeyOf, tryParseReference } from "../../reference/index.ts";
import { readCommandArgs, usageError, type CliIO, type Command } from "../command.ts";
import { downloadProgress, parseSize } from "../diff/index.ts";
import { editOptions, fileDiffOptions } from "../options.ts";
import {
  editorOf,
  openPolicyStore,
  policyTargetOptions,
  policyTargetUsage,
  reportPolicyError,
} from "../policy-target.ts";
import { lookupOptions, lookupUsage, openRegistrySession } from "../registry-access.ts";
import { reviewChange } from "./approve-review.ts";

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
  --with-diff                 Compare the files first (as 'digestpin diff --files') and keep a
                              summary with the old digest's history entry (review: the layers
                              and base, counts of files added, removed and changed, the first
                              ${REVIEW_PATHS} paths), so the policy records what was reviewed
  --platform OS/ARCH[/VAR]    With --with-diff: compare only this platform
  --max-download SIZE         With --with-diff: download at most SIZE (default 1Gi)
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
  const parsed = readCommandArgs(
    approveCommand,
    args,
    {
      digest: { type: "string" },
      "with-diff": { type: "boolean" },
      ...editOptions,
      ...fileDiffOptions,
      ...policyTargetOptions,
      ...lookupOptions,
    },
    io,
  );
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const fail = usageError(approveCommand, io);
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
  const withDiff = values["with-diff"] === true;
  for (const flag of ["platform", "max-download"] as const) {
    if (values[flag] !== undefined && !withDiff) return fail(`--${flag} needs --with-diff`);
  }
  const maxDownload = parseSize(values["max-download"] ?? "1Gi");
  if (typeof maxDownload === "string") return fail(`--max-download: ${maxDownload}`);
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
    let approval: Approval = {
      digest: answer.digest,
      pinnedAt: rfc3339(new Date()),
      pinnedBy: editorOf(values.by, io.env),
      reason: values.reason,
      ...(Object.keys(platforms).length > 0 && { platforms }),
    };
    let reviewedFrom: string | undefined;
    if (withDiff) {
      const { policy } = viewOf(await store.read());
      const old = policy.pins.get(key);
      if (old !== undefined && old.digest !== approval.digest) {
        reviewedFrom = old.digest;
        const review = await reviewChange(
          session,
          reference.reference,
          policy.pins,
          old.digest,
          approval.digest,
          {
            platform: values.platform,
            maxDownload,
            progress: downloadProgress(io.stderr, io.stderrIsTTY === true),
          },
        );
        approval = { ...approval, review };
      }
    }
    const dryRun = values["dry-run"] === true;
    const outcome = await editPolicy(store, approveEdit(key, approval, reviewedFrom), { dryRun });
    if (outcome.action === "unchanged") {
      io.stdout(`unchanged  ${key} is pinned to ${approval.digest} already\n`);
      return 0;
    }
    io.stdout(
      `${dryRun ? "would approve" : "approved"}  ${key}: ${outcome.old.digest} → ${approval.digest}` +
        ` (${outcome.documents.join(", ")}); the old digest is first in its history\n`,
    );
    if (approval.review !== undefined) io.stdout(`${reviewLine(approval.review)}\n`);
    return 0;
  } catch (error) {
    return reportPolicyError("approve", error, io);
  } finally {
    await session.close();
  }
}

function approveEdit(key: string, approval: Approval, reviewedFrom?: string) {
  return (view: PolicyView): EditResult<Outcome> => {
    const old = view.policy.pins.get(key);
    if (old === undefined) {
      throw new DigestpinError(
        "ERR_NOT_PINNED",
        `${key} is not pinned; pin it with 'digestpin pin ${key}'`,
      );
    }
    if (
      reviewedFrom !== undefined &&
      old.digest !== reviewedFrom &&
      old.digest !== approval.digest
    ) {
      throw new DigestpinError(
        "ERR_PIN_CHANGED",
        `the pin of ${key} changed to ${old.digest} while the diff from ${reviewedFrom} was made; run approve again`,
      );
    }
    if (old.digest === approval.digest) {
      return { changes: new Map(), result: { action: "unchanged", old } };
    }
    const holders = view.holders(key);
    const foreign = holders.find((d) => d.managedBy !== undefined);
    if (foreign !== undefined) throw notOurs(key, foreign);
    const changes = new Map(holders.map((d) => [d.name, approvePin(d.text, key, approval)]));
    const documents = holders.map((d) => d.name);
    return { changes, result: { action: "approved", old, documents } };
  };
}

/**
 * A pin kept in a ConfigMap that Helm or a GitOps tool syncs is changed in its source, never by
 * digestpin: the next upgrade or sync would undo the change.
 */
export function notOurs(key: string, document: StoredDocument): DigestpinError {
  return new DigestpinError(
    "ERR_PIN_NOT_OURS",
    `${key} is pinned in ${document.name}, which ${document.managedBy ?? "another tool"} ` +
      `manages: a change made here would be undone at its next sync; change the pin where ` +
      `${document.managedBy ?? "it"} takes it from (values, Git), or move such pins into ` +
      `digestpin's pin store with 'digestpin pins migrate' and run this again`,
  );
}

/** `reviewed   1 added, 0 removed, 0 changed: + /harmful`. */
function reviewLine(review: PinReview): string {
  const counts = `${review.added ?? 0} added, ${review.removed ?? 0} removed, ${review.changed ?? 0} changed`;
  const paths = review.paths === undefined ? "" : `: ${review.paths.join(", ")}`;
  const summary =
    review.summary === undefined || review.summary === "" ? "" : ` (${review.summary})`;
  return `reviewed  ${counts}${paths}${summary}`;
}
