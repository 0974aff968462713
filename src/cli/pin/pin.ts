import { editPolicy, rfc3339 } from "../../pins/index.ts";
import { approveCommand, provenance, type PinRecord } from "../../policy/index.ts";
import { canonicalOf, pinKeyOf, tryParseReference } from "../../reference/index.ts";
import { readCommandArgs, usageError, type CliIO, type Command } from "../command.ts";
import { objectsOf, readManifestFiles } from "../manifests.ts";
import { editOptions, manifestOptions } from "../options.ts";
import {
  editorOf,
  openPolicyStore,
  policyTargetOptions,
  policyTargetUsage,
  reportPolicyError,
} from "../policy-target.ts";
import {
  lookupOptions,
  lookupUsage,
  mapLimited,
  openRegistrySession,
  progressLine,
  type RegistrySession,
} from "../registry-access.ts";
import { pinEdit, type PinStep } from "./plan.ts";

const usage = `Usage: digestpin pin REF… [options]
       digestpin pin -f MANIFESTS [options]

Pins each tag to the digest its registry serves now (for a multi-platform image, the index
digest, with each platform's digest), recording who pinned it, when and why. REF may also be
name:tag@digest: then that digest is pinned (it must exist in the registry). With -f, every
image in the manifests (files, directories, - for stdin) is pinned.

A tag pinned at that digest already is left unchanged. A tag pinned at another digest is
refused: review the change with 'digestpin diff' and accept it with 'digestpin approve'.
New pins go into the policy document (the --policy file, or the policy ConfigMap).

Options:
  -f, --filename PATH         Pin the images of these manifests; repeatable
  --reason TEXT               Why (recorded with each pin)
  --by NAME                   Who (default $USER@hostname)
  --dry-run                   Show what would change; change nothing
${policyTargetUsage}${lookupUsage}  -h, --help                  Show this help.

Exit status: 0 when every tag is pinned (or was already), 1 when one was refused or could not
be resolved, 2 on a usage error.
`;

/** `digestpin pin REF… | -f MANIFESTS`: record pins, with who, when and why. */
export const pinCommand: Command = {
  name: "pin",
  summary: "Pin image tags to the digests their registries serve now",
  usage,
  run,
};

async function run(args: readonly string[], io: CliIO): Promise<number> {
  const parsed = readCommandArgs(
    pinCommand,
    args,
    {
      ...manifestOptions,
      ...editOptions,
      ...policyTargetOptions,
      ...lookupOptions,
    },
    io,
  );
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const fail = usageError(pinCommand, io);
  if (positionals.length === 0 && values.filename === undefined) {
    return fail("no image reference or -f given");
  }
  const store = openPolicyStore(values, io.env);
  if (typeof store === "string") return fail(store);
  const session = await openRegistrySession(values, io.env);
  if (typeof session === "string") return fail(session);
  try {
    const inputs = await gatherInputs(positionals, values.filename ?? [], io);
    if (inputs === undefined) return 1;
    const stamp = {
      pinnedAt: rfc3339(new Date()),
      pinnedBy: editorOf(values.by, io.env),
      ...(values.reason !== undefined && { reason: values.reason }),
    };
    const { records, failed } = await resolveAll(inputs, session, stamp, io);
    const dryRun = values["dry-run"] === true;
    const { steps, written } = await editPolicy(store, pinEdit(store, records), { dryRun });
    for (const step of steps) io.stdout(stepLine(step, dryRun));
    const pinned = steps.filter((s) => s.action === "pin").length;
    const refused = steps.filter((s) => s.action === "refused").length;
    const into = written.length > 0 ? written.join(", ") : store.pinsGoTo;
    const where = dryRun ? `dry run: nothing changed in ${into}` : into;
    io.stderr(
      `${pinned} pinned, ${steps.length - pinned - refused} unchanged, ${refused} refused, ` +
        `${failed} failed (${where})\n`,
    );
    return refused > 0 || failed > 0 ? 1 : 0;
  } catch (error) {
    return reportPolicyError("pin", error, io);
  } finally {
    await session.close();
  }
}

/** The references to pin: the arguments, then every image of the manifests, each once. */
async function gatherInputs(
  refs: readonly string[],
  paths: readonly string[],
  io: CliIO,
): Promise<string[] | undefined> {
  const files = await readManifestFiles(paths, io.readStdin);
  const errors = files.flatMap((file) => file.errors);
  for (const error of errors) io.stderr(`digestpin pin: ${error}\n`);
  if (errors.length > 0) return undefined;
  const images = files.flatMap(objectsOf).flatMap((o) => o.images.map((slot) => slot.image));
  return [...new Set([...refs, ...images])];
}

async function resolveAll(
  inputs: readonly string[],
  session: RegistrySession,
  stamp: Pick<PinRecord, "pinnedAt" | "pinnedBy" | "reason">,
  io: CliIO,
): Promise<{ records: PinRecord[]; failed: number }> {
  let failed = 0;
  const progress = progressLine(io, "resolving", inputs.length);
  const results = await mapLimited(
    inputs,
    8,
    async (input): Promise<PinRecord | undefined> => {
      const parsed = tryParseReference(input);
      const key = parsed.ok ? pinKeyOf(parsed.reference) : null;
      if (!parsed.ok || key === null) {
        failed++;
        const why = parsed.ok
          ? "a pin needs a tag (name:tag or name:tag@digest)"
          : parsed.error.message;
        io.stderr(`digestpin pin: ${input}: ${why}\n`);
        return undefined;
      }
      try {
        const answer = await session.resolve(parsed.reference, true);
        const platforms = Object.fromEntries(
          (answer.platforms ?? []).map((p) => [p.platform, p.digest]),
        );
        return {
          key,
          digest: answer.digest,
          ...stamp,
          ...(Object.keys(platforms).length > 0 && { platforms }),
          history: [],
        };
      } catch (error) {
        failed++;
        io.stderr(`digestpin pin: ${canonicalOf(parsed.reference)}: ${(error as Error).message}\n`);
        return undefined;
      }
    },
    progress,
  );
  return { records: results.filter((r) => r !== undefined), failed };
}

function stepLine(step: PinStep, dryRun: boolean): string {
  switch (step.action) {
    case "pin":
      return `${dryRun ? "would pin" : "pinned"}  ${step.record.key} ${step.record.digest}\n`;
    case "unchanged":
      return `unchanged  ${step.key} ${step.digest}\n`;
    case "refused":
      return (
        `refused    ${step.key}: pinned to ${step.pinned.digest} (${provenance(step.pinned)}), ` +
        `not ${step.digest}; review with 'digestpin diff ${step.key}', accept with ` +
        `'${approveCommand(step.key, step.digest)}'\n`
      );
  }
}
